import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

from textclf.annotation import annotation_path, read_annotation
from textclf.errors import ConfigError, InputError
from textclf.pages import lines_from_text, read_text_file
from textclf.topics import (
    PageRule,
    TopicDef,
    TopicRules,
    TopicsConfig,
    fold,
    load_topics_config,
    page_topics,
    pattern_triggers,
    topics_config,
)

ROOT = Path(__file__).resolve().parents[1]
TAXONOMY = ROOT / "conf" / "topics" / "default.yaml"
SEED_PAGE = ROOT / "seeds" / "000_2af67d93a0b182bd.txt"


@pytest.fixture(scope="module")
def cfg() -> Any:
    return OmegaConf.load(TAXONOMY)


@pytest.fixture(scope="module")
def rules(cfg: Any) -> TopicRules:
    return TopicRules.from_config(cfg)


def _plain_taxonomy() -> dict[str, Any]:
    """The default taxonomy as plain data, its patterns' ``{{name}}`` lists filled in."""
    return {
        name: {"keywords": t.keywords, "cased": t.cased, "patterns": t.patterns}
        for name, t in load_topics_config(TAXONOMY).taxonomy.items()
    }


# --- the default taxonomy on hand-written lines -------------------------------------------


def test_names_follow_the_config(rules: TopicRules, cfg: Any):
    assert rules.names == list(cfg.taxonomy.keys())
    assert len(rules.names) == 11
    for name, topic in cfg.taxonomy.items():
        assert topic.definition, name
        assert len(topic.keywords) + len(topic.cased) + len(topic.patterns) >= 20, name


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Pyongyang test-fired a ballistic missile", ["korean_peninsula", "military_security"]),
        ("Subscribe to our newsletter", []),
        ("Accept cookies", []),
        ("Read more", []),
        ("Share on Facebook", []),
        ("© 2024 Example Media. All rights reserved.", []),
        ("Play the game now and take care of your account", []),
        ("Tell us what you think", []),
        ("CONTACT US", []),
        ("About us", []),
        ("Trade-in your old phone today", []),
        ("We are a non-profit organization", []),
        ("Washington state offers free campsites", []),
        # words of the topics used in another sense, found firing on WCXB dev lines
        ("Meet our brand ambassadors", []),
        ("File the form with the New York Secretary of State", []),
        ("Washington State Department of Licensing", []),
        ("Panasonic LUMIX G7 Mirrorless Camera", []),
        ("The bakery chain was founded in Korea in 1988", []),
        ("Russian service: platters served to guests", []),
        ("Sporting supremely soft cushions", []),
        ("Olympic cast iron weight plates", []),
        ("Star Wars: Episode V", []),
        ("Price war: headphones drop to $229", []),
        ("The chain has 270 bakeries in the U.S. and Canada", []),
        ("Top 17 marketing agencies in the US", []),
        ("Chess pieces under US $200", []),
    ],
)
def test_default_rules_exactly(rules: TopicRules, line: str, expected: list[str]):
    assert rules.label_line(line) == expected


@pytest.mark.parametrize(
    ("line", "must", "must_not"),
    [
        ("Lavrov met his Chinese counterpart in Beijing", {"diplomacy"}, {"sports"}),
        ("The US imposed new sanctions on Iran", {"us_politics", "diplomacy", "middle_east"}, ()),
        ("Let us know what US officials said", {"us_politics"}, ()),
        ("Nato leaders gathered for the summit talks", {"diplomacy", "military_security"}, ()),
        ("Kim Jong-un oversaw the drills", {"korean_peninsula"}, ()),
        ("Ukraine's army shelled Donetsk overnight", {"russia_fsu", "military_security"}, ()),
        ("Houthi rebels attacked ships in the Red Sea", {"middle_east", "military_security"}, ()),
        ("Senate Republicans blocked the bill", {"us_politics"}, ()),
        ("Profits rose as inflation eased", {"economy_business"}, ()),
        ("NASA's telescope spotted a distant exoplanet", {"science_technology"}, ()),
        ("Hospitals reported a surge in flu cases", {"health"}, ()),
        ("Real Madrid won the Champions League final", {"sports"}, ()),
        ("The film premiered at the Cannes Film Festival", {"culture_entertainment"}, ()),
        ("İSTANBUL  hosts   peace   talks", {"middle_east", "diplomacy"}, ()),
        # relations between states with no diplomacy keyword
        ("Beijing's relations with Moscow have warmed", {"diplomacy"}, ()),
        ("Talks with the U.S. resumed on Monday", {"diplomacy"}, ()),
        ("US-China relations hit a new low", {"diplomacy"}, ()),
        ("Putin met with South Korean President Lee", {"diplomacy", "russia_fsu"}, ()),
        ("Prime Minister Narendra Modi visited Moscow", {"diplomacy"}, ()),
        ("The two sides issued a joint statement", {"diplomacy"}, ()),
        ("Kyiv's allies pledged more support", {"diplomacy"}, ()),
        ("A Russian delegation arrived for the prisoner swap", {"diplomacy"}, ()),
        ("Secretary of State Marco Rubio said", {"diplomacy"}, ()),
        ("G7 leaders agreed on a statement", {"diplomacy"}, ()),
        ("North Korea fired a missile", {"korean_peninsula"}, ()),
        ("The U.S. imposed tariffs", {"us_politics"}, ()),
        ("Russia-Ukraine war", {"russia_fsu", "military_security"}, {"diplomacy"}),
        ("Overnight strikes on Iran hit an oil depot", {"military_security"}, ()),
        ("Workers held a strike in France", set(), {"military_security"}),
        ("Shutdown of Hormuz Strait raises oil prices", {"middle_east"}, ()),
        ("DOGE used ChatGPT to cut grants", {"us_politics"}, ()),
        ("Doctors are deployed to ICE detention centers", {"us_politics"}, ()),
        ("The compiler aborts on an ICE", set(), {"us_politics"}),
        ("Founded by Yasmine Rubio, the restaurant", set(), {"us_politics"}),
        ("Newcastle lost their FA Cup tie to Manchester City", {"sports"}, ()),
        ("Wicket is a Java web application framework", set(), {"sports"}),
        ("Clair Obscur sweeps The Game Awards with nine wins", {"culture_entertainment"}, ()),
        ("The actors rehearsed for weeks", {"culture_entertainment"}, ()),
        ("Threat actors exploited the flaw", set(), {"culture_entertainment"}),
        # two states' leaders in one sentence; a state acting on another by diplomatic means
        ("Trump accuses Starmer of seeking to join wars", {"diplomacy"}, ()),
        ("Putin tells Washington to drop its demands", {"diplomacy"}, ()),
        ("Macron and Merz will travel together", {"diplomacy"}, ()),
        ("China urges Japan to reflect on its history", {"diplomacy"}, ()),
        ("Spain recognises Palestine", {"diplomacy"}, ()),
        ("It explains Trump, Farage, Meloni, and the rest", set(), {"diplomacy"}),
        ("Macron said that Macron had won", set(), {"diplomacy"}),
        ("Trump threatens Iran with more strikes", {"us_politics"}, {"diplomacy"}),
        ("In maps: eight days of strikes across the Middle East", {"military_security"}, ()),
        ("He spoke about the conflict in Sudan", {"military_security"}, ()),
        ("Showdown at the heart of the Republican primary", {"us_politics"}, ()),
        ("EEUU advierte de mayores bombardeos", {"us_politics", "military_security"}, ()),
        ("A tough night for England on and off the pitch", {"sports"}, ()),
        ("Women's Sports", {"sports"}, ()),
        ("Best mirrorless camera for pro sports and wildlife", set(), {"sports"}),
        ("Daily meditation may work as well as a drug to calm anxiety", {"health"}, ()),
        ("Find the right therapist for you", {"health"}, ()),
        ("Medicaid work mandate could cut coverage", {"health"}, ()),
        ("React calls these operations side effects", set(), {"health"}),
        ("The Greatest Comedy Anime of All Time, Ranked", {"culture_entertainment"}, ()),
        ("Explore comics, graphic novels and manga", {"culture_entertainment"}, ()),
        ("Venezuela's president vows reform amid visit from US cabinet member", {"diplomacy"}, ()),
        ("Japan and South Korea jointly warned about crypto thefts", {"diplomacy"}, ()),
        ("Seoul said it would respond", {"korean_peninsula"}, ()),
        ("One of Seoul's most acclaimed restaurants", set(), {"korean_peninsula"}),
        ("North Korean hackers continue to dominate crypto theft", {"military_security"}, ()),
        ("Denmark blames Russia for cyberattacks on a water utility", {"military_security"}, ()),
        ("Best practices for preventing cyberattacks", set(), {"military_security"}),
        ("The Trump-Putin summit in Alaska", {"diplomacy"}, ()),
        ("Nuclear talks resume in Oman", {"diplomacy"}, ()),
        ("St. Petersburg, FL", set(), {"russia_fsu"}),
        ("Putin met officials in St. Petersburg", {"russia_fsu"}, ()),
        ("The U.S. says Putin is stalling", {"diplomacy"}, ()),
    ],
)
def test_default_rules_on_news_lines(rules: TopicRules, line: str, must: set, must_not: Any):
    got = set(rules.label_line(line))
    assert must <= got, (line, got, rules.explain(line))
    assert not (set(must_not) & got)


def test_cased_terms_are_case_sensitive():
    rules = TopicRules.from_config({"usa": {"cased": ["US"], "keywords": ["white house"]}})
    assert rules.label_line("The US said no") == ["usa"]
    assert rules.label_line("US-led forces") == ["usa"]
    assert rules.label_line("Join us") == []
    assert rules.label_line("Us and them") == []
    assert rules.label_line("USB cable") == []  # whole words only
    assert rules.label_line("the WHITE   House") == ["usa"]  # keywords ignore case and spacing


def test_keywords_match_whole_words_only():
    rules = TopicRules.from_config({"war": {"keywords": ["war", "U.S.", "kim jong-un"]}})
    assert rules.label_line("a war-torn city") == ["war"]
    assert rules.label_line("Warsaw and software") == []
    assert rules.label_line("the U.S. army") == ["war"]
    assert rules.label_line("the US army") == []
    assert rules.label_line("KIM JONG-UN’s visit") == ["war"]
    assert rules.label_line("Kim Jong-unveiled") == []


def test_label_lines_and_explain(rules: TopicRules):
    lines = ["Subscribe to our newsletter", "Pyongyang test-fired a ballistic missile"]
    assert rules.label_lines(lines) == [rules.label_line(x) for x in lines]
    assert rules.label_lines([]) == []
    explained = rules.explain(lines[1])
    assert explained["korean_peninsula"] == ["Pyongyang"]
    assert explained["military_security"] == ["test-fired a ballistic missile"]
    assert list(explained) == ["korean_peninsula", "military_security"]
    with pytest.raises(InputError, match="single str"):
        rules.label_lines("one line")


# --- the shortcut gives exactly what the plain regexes give -------------------------------


def _reference(taxonomy: dict[str, Any]) -> list[tuple[str, list[re.Pattern[str]]]]:
    """Every rule as its own regex: slow but obviously right."""

    def term(t: str) -> str:
        return r"(?<!\w)" + r"\s+".join(map(re.escape, t.split())) + r"(?!\w)"

    out = []
    for name, topic in taxonomy.items():
        regexes = [re.compile(term(k), re.IGNORECASE) for k in topic.get("keywords") or []]
        regexes += [re.compile(term(k)) for k in topic.get("cased") or []]
        regexes += [re.compile(p, re.IGNORECASE) for p in topic.get("patterns") or []]
        out.append((name, regexes))
    return out


def _reference_labels(reference: list[tuple[str, list[re.Pattern[str]]]], line: str) -> list:
    return [name for name, regexes in reference if any(r.search(line) for r in regexes)]


TRICKY = [
    "Putin meets North Korean foreign minister",
    "FOREIGN   MINISTRY spokeswoman",
    "ſanctions on Iran",  # long s: re.IGNORECASE treats it as "s"
    "İstanbul talks",  # dotted capital I
    "ΣΟΦΙΑ and σοφια",
    "US\tpolicy",
    "US-Korea talks, U.S.-led",
    "(R-Texas) and (D-Calif.)",
    "$5bn deal, €3 million fine, 2 billion dollars",
    "Moscow and Washington agreed; Washington said",
    "",
    "   ",
    "\u200b",
    "non-profit vs profits",
]


def test_fast_path_equals_reference_on_tricky_and_seed_lines(rules: TopicRules):
    reference = _reference(_plain_taxonomy())
    seed = [line.text for line in lines_from_text(read_text_file(SEED_PAGE))]
    lines = TRICKY + seed
    assert rules.label_lines(lines) == [_reference_labels(reference, x) for x in lines]


def _vocabulary() -> list[str]:
    words: set[str] = set()
    for topic in _plain_taxonomy().values():
        for term in [*topic["keywords"], *topic["cased"]]:
            words.update({term, term.upper(), term.title()})
            words.update(term.split())
    words.update(["ſ", "İ", "’s", "'s", "(D-", "R-", "$", "5", "bn", "Washington", "said", "US"])
    return sorted(words)


_SEPARATORS = [" ", "  ", "\t", "-", ".", ",", "’", "_", "x", "é", ""]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_vocabulary()) | st.sampled_from(_SEPARATORS), max_size=12))
def test_fast_path_equals_reference_on_random_lines(pieces: list[str]):
    rules = _cached_rules()
    line = "".join(pieces)
    assert rules.label_line(line) == _reference_labels(_cached_reference(), line)


_CACHE: dict[str, Any] = {}


def _cached_rules() -> TopicRules:
    if "rules" not in _CACHE:
        _CACHE["rules"] = TopicRules.from_config(OmegaConf.load(TAXONOMY))
    return _CACHE["rules"]


def _cached_reference() -> list[tuple[str, list[re.Pattern[str]]]]:
    if "reference" not in _CACHE:
        _CACHE["reference"] = _reference(_plain_taxonomy())
    return _CACHE["reference"]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"\bforeign minist(?:er|ry)\b", {"foreign"}),
        (r"\bdefen[cs]e minister\b", {"minister"}),
        (r"\b(?:killed|wounded) in\b", {"killed", "wounded"}),
        (r"\bfoo\b|\bbar\b", {"foo", "bar"}),
        (r"(?<!\w)x\s+y", {"x"}),
        (r"foo", None),  # may match inside a word
        (r"\bfoo\w*", None),
        (r"(?a:\bfoo\b)", None),  # ASCII \b does not agree with our word tokens
        (r"\bfoo\b|bar", None),
    ],
)
def test_pattern_triggers(pattern: str, expected: set | None):
    found = pattern_triggers(pattern)
    assert (None if found is None else set(found)) == expected


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="abfoxyrmniste -_.’é\tſİ", max_size=30))
def test_pattern_triggers_are_necessary(text: str):
    for pattern in [
        r"\bforeign minist(?:er|ry)\b",
        r"\b(?:on|at) the front ?lines?\b",
        r"\bsanctions? (?:on|against)\b",
        r"(?-i:(?<![A-Z] )\bUS\b)",
    ]:
        triggers = pattern_triggers(pattern)
        assert triggers
        if re.search(pattern, text, re.IGNORECASE):
            assert triggers & set(re.findall(r"\w+", fold(text))), (pattern, text)


def test_default_patterns_mostly_skip_lines_without_their_words(cfg: Any):
    """Speed: a pattern without trigger words runs on every line (the one allowed: amounts of
    money, "$5bn", which start with a symbol). A pattern that opens with a long list, such as
    ``{{states}}``, can lose its triggers: put its rarer words first."""
    patterns = [p for topic in topics_config(cfg).taxonomy.values() for p in topic.patterns]
    unanalysed = [p for p in patterns if pattern_triggers(p) is None]
    assert len(unanalysed) <= 1, unanalysed


# --- configuration ------------------------------------------------------------------------


def test_a_new_topic_needs_no_code_change():
    taxonomy = _plain_taxonomy()
    taxonomy["space_flight"] = {
        "definition": "Rockets, satellites and crewed spaceflight.",
        "keywords": ["rocket launch", "launch pad"],
        "cased": ["ESA"],
        "patterns": [r"\borbit(?:al|ing)?\b"],
    }
    del taxonomy["sports"]
    rules = TopicRules.from_config({"taxonomy": taxonomy})
    assert rules.names[-1] == "space_flight" and "sports" not in rules.names
    assert "space_flight" in rules.label_line("ESA plans an orbital rocket launch")
    assert rules.label_line("esa orbits") == []
    assert rules.label_line("Real Madrid won the Champions League final") == []


def test_alternations_fill_patterns():
    cfg = {
        "taxonomy": {
            "ties": {"patterns": [r"\btalks with {{states}}\b", r"{{states}}-{{states}}"]}
        },
        "alternations": {"states": ["russia", "(?-i:US)", "north korea"]},
    }
    checked = topics_config(cfg)
    assert checked.taxonomy["ties"].patterns[0] == r"\btalks with (?:russia|(?-i:US)|north korea)\b"
    rules = TopicRules.from_config(cfg)
    assert rules.label_line("Talks with North Korea resumed") == ["ties"]
    assert rules.label_line("talks with us") == []
    assert rules.label_line("US-Russia") == ["ties"]
    # a checked config passes through again unchanged (what a model stores)
    assert topics_config(checked).taxonomy == checked.taxonomy


def test_alternations_build_on_each_other():
    cfg = {
        "taxonomy": {"ties": {"patterns": [r"\btalks with {{states}}\b"]}},
        "alternations": {"states": ["{{us}}", "russia"], "us": ["(?-i:US)", "america"]},
    }
    checked = topics_config(cfg)
    assert checked.alternations["states"] == ["(?:(?-i:US)|america)", "russia"]
    assert checked.taxonomy["ties"].patterns == [r"\btalks with (?:(?:(?-i:US)|america)|russia)\b"]
    rules = TopicRules.from_config(cfg)
    assert rules.label_line("Talks with America resumed") == ["ties"]
    assert rules.label_line("talks with us") == []


@pytest.mark.parametrize(
    ("alternations", "pattern", "message"),
    [
        ({"states": ["russia"]}, "{{nations}} talks", "uses {{nations}}, which is not a list"),
        ({"a": ["{{b}}"], "b": ["x"], "c": ["{{d}}"]}, "x", "alternations.c: an item uses {{d}}"),
        ({"a": ["{{b}}"], "b": ["{{a}}"]}, "x", "refers to itself: a -> b -> a"),
        ({"States": ["russia"]}, "talks", "alternations: name 'States' is not valid"),
        ({"states": []}, "talks", "alternations.states is empty"),
        ({"states": ["(russia"]}, "{{states}}", "alternations.states"),
        ({"states": "russia"}, "{{states}}", "must be a list of strings"),
    ],
)
def test_alternation_errors_are_named(alternations: dict, pattern: str, message: str):
    cfg = {"taxonomy": {"ties": {"patterns": [pattern]}}, "alternations": alternations}
    with pytest.raises(ConfigError, match=re.escape(message)):
        topics_config(cfg)


def test_structured_config_round_trip():
    merged = OmegaConf.merge(OmegaConf.structured(TopicsConfig), OmegaConf.load(TAXONOMY))
    typed = OmegaConf.to_object(merged)
    assert isinstance(typed, TopicsConfig)
    assert isinstance(typed.taxonomy["diplomacy"], TopicDef)
    assert typed.page_rule == PageRule(min_lines=2, min_share=0.15)
    assert TopicRules.from_config(typed).names == TopicRules.from_config(merged).names
    loaded = load_topics_config(TAXONOMY)
    assert loaded.page_rule == typed.page_rule and list(loaded.taxonomy) == list(typed.taxonomy)


@pytest.mark.parametrize(
    ("taxonomy", "message"),
    [
        ({"broken": {"patterns": ["(unclosed"]}}, r"topic 'broken': pattern '\(unclosed'"),
        ({"flags": {"patterns": ["(?x) a b"]}}, r"topic 'flags': pattern"),
        ({"Bad-Name": {"keywords": ["x"]}}, r"topic name 'Bad-Name' is not valid"),
        ({"1st": {"keywords": ["x"]}}, r"topic name '1st'"),
        ({"empty": {"definition": "nothing"}}, r"topic 'empty' has no rules"),
        ({"typo": {"keyword": ["x"]}}, r"topic 'typo': unknown key\(s\) keyword"),
        ({"scalar": {"keywords": "war"}}, r"topic 'scalar': keywords must be a list"),
        ({"blank": {"keywords": ["war", " "]}}, r"topic 'blank': keywords has an empty"),
        ({}, r"non-empty mapping"),
    ],
)
def test_config_errors_name_the_topic(taxonomy: dict, message: str):
    with pytest.raises(ConfigError, match=message):
        TopicRules.from_config(taxonomy)


def test_config_errors_in_page_rule_and_top_level():
    good = {"t": {"keywords": ["x"]}}
    with pytest.raises(ConfigError, match="min_share"):
        topics_config({"taxonomy": good, "page_rule": {"min_share": 1.5}})
    with pytest.raises(ConfigError, match="min_lines"):
        topics_config({"taxonomy": good, "page_rule": {"min_lines": -1}})
    with pytest.raises(ConfigError, match="unknown key"):
        topics_config({"taxonomy": good, "page_rules": {}})
    with pytest.raises(ConfigError, match="does not exist"):
        load_topics_config(ROOT / "conf" / "topics" / "nope.yaml")


# --- page roll-up -------------------------------------------------------------------------


def test_page_topics_rule():
    rule = PageRule(min_lines=2, min_share=0.15)
    lines = [["a"], ["a", "b"], [], ["c"], [], [], [], [], [], [], ["c"], ["c"], ["c"]]
    content = [True] * 10 + [False] * 3  # 10 content lines; "c" mostly on boilerplate
    # a: 2 lines, 20 % -> yes; b: 1 line -> no; c: 1 content line -> no.
    assert page_topics(lines, content, rule) == ["a"]
    # 20 content lines: "a" on 2 of them is only 10 %.
    assert page_topics(lines[:10] * 2, [True] * 20, rule) == ["a"]  # 4 lines, 20 %
    assert page_topics([["a"], ["a"]] + [[]] * 18, [True] * 20, rule) == []
    assert page_topics([["a"]] * 3, [False] * 3, rule) == []
    assert page_topics([], [], rule) == []


def test_page_topics_order_and_rule_forms():
    lines = [["b"], ["a", "b"], ["a"]]
    assert page_topics(lines, [True] * 3, {"min_lines": 1, "min_share": 0.0}) == ["b", "a"]
    assert page_topics(lines, [True] * 3, PageRule(min_lines=3, min_share=0.0)) == []
    with pytest.raises(InputError, match="3 lines of topics but 2 labels"):
        page_topics(lines, [True, True], PageRule())
    with pytest.raises(ConfigError):
        page_topics(lines, [True] * 3, {"min_share": -0.1})


# --- the seed page ------------------------------------------------------------------------


def test_seed_page_content_gets_diplomacy_and_korea(rules: TopicRules, cfg: Any):
    lines = [line.text for line in lines_from_text(read_text_file(SEED_PAGE))]
    ann = read_annotation(annotation_path(SEED_PAGE), lines)
    content = [(a.text, rules.label_line(a.text)) for a in ann if a.label == 1]
    both = [text for text, got in content if {"diplomacy", "korean_peninsula"} <= set(got)]
    headline, standfirst, *body = [text for text, _ in content]
    assert headline in both or standfirst in both
    assert len([text for text in body if text in both]) >= 3
    rolled = page_topics(rules.label_lines(lines), [a.label == 1 for a in ann], cfg.page_rule)
    assert {"diplomacy", "korean_peninsula", "russia_fsu"} <= set(rolled)
