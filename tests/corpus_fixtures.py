"""Small hand-written corpora in the WCXB and Scrapinghub layouts, for tests.

Nothing here comes from the real corpora: the pages are generated from the sentences below.
"""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path
from types import SimpleNamespace

NAV = ["Home", "World", "Business", "Sports", "Health", "Contact us", "Log in"]
FOOTER = [
    "Subscribe to our newsletter",
    "© 2024 Example Media. All rights reserved.",
    "This website uses cookies. Accept cookies",
    "Privacy policy",
]
SENTENCES = [
    "The council approved the new budget after a long debate on Tuesday evening.",
    "Officials said the bridge would reopen to traffic before the end of the month.",
    "Residents had complained for years about the noise coming from the old factory.",
    "The report found that water quality in the river improved steadily since 2015.",
    "Engineers tested the prototype in cold weather to check how the battery behaved.",
    "Teachers welcomed the decision, although some parents asked for more details.",
    "The museum will display the collection in a new wing opening next spring.",
    "Farmers in the valley expect a smaller harvest because of the dry summer.",
    "The minister met her counterpart to discuss trade and the border agreement.",
    "Scientists published the results in a journal after two years of field work.",
    "Local shops reported higher sales during the festival than in previous years.",
    "The company plans to hire two hundred workers at its new plant in the north.",
]
HEADLINES = [
    "Council approves budget after long debate",
    "Bridge to reopen before the end of the month",
    "River water quality keeps improving",
    "New museum wing to open next spring",
    "Farmers brace for a smaller harvest",
    "Company to hire hundreds at new plant",
]


def _page(rng: random.Random, headline: str, n_par: int) -> tuple[str, str]:
    paragraphs = [" ".join(rng.sample(SENTENCES, 3)) for _ in range(n_par)]
    teasers = rng.sample(HEADLINES, 3)
    html = ["<html><head><title>", headline, "</title></head><body>"]
    html.append("<nav><ul>" + "".join(f"<li><a href='#'>{n}</a></li>" for n in NAV) + "</ul></nav>")
    html.append("<div class='date'>17 Jan, 2024 00:31</div>")
    html.append(f"<h1>{headline}</h1>")
    html += [f"<p>{p}</p>" for p in paragraphs]
    html.append(
        "<aside><h3>Read more</h3>" + "".join(f"<div>{t}</div>" for t in teasers) + "</aside>"
    )
    html.append("<footer>" + "".join(f"<p>{f}</p>" for f in FOOTER) + "</footer>")
    html.append("</body></html>")
    return "".join(html), "\n\n".join(paragraphs)


def make_tiny_corpora(
    root: Path, *, n_dev: int = 16, n_test: int = 4, n_sh: int = 3, seed: int = 0
) -> Path:
    """Write a small WCXB-like and Scrapinghub-like corpus under ``root`` and return ``root``."""
    rng = random.Random(seed)
    files: dict[str, dict] = {}
    wcxb = root / "wcxb"
    for i in range(n_dev + n_test):
        page_id = f"{i + 1:04d}"
        split = "dev" if i < n_dev else "test"
        domain = f"site{i % 12}.example"
        headline = HEADLINES[i % len(HEADLINES)]
        html, gold = _page(rng, headline, 3 + i % 3)
        (wcxb / split / "html").mkdir(parents=True, exist_ok=True)
        (wcxb / split / "ground-truth").mkdir(parents=True, exist_ok=True)
        (wcxb / split / "html" / f"{page_id}.html.gz").write_bytes(gzip.compress(html.encode()))
        gt = {
            "url": f"https://www.{domain}/news/{page_id}",
            "file_id": page_id,
            "_internal": {"page_type": {"primary": "article"}},
            "ground_truth": {
                "title": headline,
                "main_content": gold,
                "with": [gold.split(".")[0][:40].lower()],
                "without": ["subscribe to our newsletter"],
            },
        }
        (wcxb / split / "ground-truth" / f"{page_id}.json").write_text(json.dumps(gt))
        files[page_id] = {"split": split, "page_type": "article", "domain": domain, "spa": False}
    (wcxb / "metadata.json").write_text(json.dumps({"name": "tiny", "files": files}))
    sh = root / "scrapinghub"
    (sh / "html").mkdir(parents=True, exist_ok=True)
    gts = {}
    for i in range(n_sh):
        page_id = f"{i:064x}"
        html, gold = _page(rng, HEADLINES[i], 4)
        (sh / "html" / f"{page_id}.html.gz").write_bytes(gzip.compress(html.encode()))
        gts[page_id] = {"articleBody": gold, "url": f"https://news{i}.example/a/{i}"}
    (sh / "ground-truth.json").write_text(json.dumps(gts))
    return root


def build_tiny_dataset(root: Path, seeds_dir: Path, train_pages_dir: Path | None = None) -> Path:
    """Build the datasets of the tiny corpora (and the given seeds, and training pages) under
    ``root/dataset``."""
    from textclf.dataset import build_dataset
    from textclf.topics import TopicRules, load_topics_config

    conf = Path(__file__).resolve().parents[1] / "conf" / "topics" / "default.yaml"
    corpora = make_tiny_corpora(root / "corpora")
    result = build_dataset(
        out_dir=root / "dataset",
        seeds_dir=seeds_dir,
        train_pages_dir=train_pages_dir,
        corpora_dir=corpora,
        sources=["seeds", "wcxb", "scrapinghub"],
        rules=TopicRules.from_config(load_topics_config(conf)),
        validation_fraction=0.3,
        n_jobs=1,
        progress=False,
    )
    return result.path


#: The topic-training recipe (the ``topic_model`` config fields build_training_set reads) that
#: the topic tests train with: smoothing, keyword masking of every rule positive, keyword lines.
TOPIC_RECIPE = SimpleNamespace(
    smooth_min_share=0.3,
    smooth_min_lines=2,
    smooth_min_words=4,
    keyword_masking=1.0,
    keyword_lines=True,
)
