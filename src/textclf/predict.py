"""Clean pages with a trained content/boilerplate model: the importable inference API.

Load the champion once, then classify pages one at a time or in batches::

    >>> import textclf
    >>> clf = textclf.load()  # doctest: +SKIP
    >>> page = clf.predict_page("Home | News\\n\\nThe river rose overnight and flooded the town.")
    >>> [line.text for line in page.lines]
    ['Home | News', 'The river rose overnight and flooded the town.']
    >>> all(0.0 <= line.probability <= 1.0 for line in page.lines)
    True
    >>> [len(p.lines) for p in clf.pipe(["One line.", "", "Two\\nlines."])]
    [1, 0, 2]

Which model :func:`load` uses: the path or URI it is given, else ``$TEXTCLF_MODEL_URI``, else the
champion registered by ``make train`` (``models:/textclf-boilerplate@champion`` in the project's
MLflow store, ``sqlite:///<project>/mlflow.db`` unless ``$MLFLOW_TRACKING_URI`` is set). The
topic model likewise: ``topic_model=``, else ``$TEXTCLF_TOPIC_MODEL_URI``, else
``models:/textclf-topics@champion`` when it exists; without one, topics are ``None``.

Input rules (the same for every method):

* A page is ``str`` or ``bytes``. Bytes are decoded as UTF-8 when they are UTF-8 or mostly so
  (invalid sequences among valid characters become U+FFFD), else in the detected encoding (a
  cp1252, Latin-1, cp1251 or Shift-JIS file): :func:`textclf.render.decode_text`, no error.
  HTML bytes (:meth:`Classifier.predict_html`) are decoded with their declared or detected
  encoding instead.
* NUL characters are removed before the page is split into lines, and lone surrogates (text
  decoded with ``surrogateescape``, or broken JSON escapes) become U+FFFD.
* A page is split into lines on ``\\n``, ``\\r\\n`` and ``\\r`` (not on the other characters
  ``str.splitlines`` splits on); surrounding white space is stripped and empty lines are
  dropped, so there is one prediction per non-empty line, in order. An empty page gives an empty
  :class:`PagePrediction` (``content == ""``).
* A page larger than ``max_page_bytes`` (UTF-8 bytes, default 64 MB) or with more than
  ``max_page_lines`` lines, blank ones included (default 100,000), raises
  :class:`~textclf.errors.InputError`, checked before the page is split into lines (for HTML:
  the size of the HTML, the lines of its text; for :meth:`Classifier.predict_lines`: its
  entries, empty ones included). In :meth:`Classifier.pipe` the error names the page's position
  in the input, after the pages before it have been yielded. Memory stays bounded: featurizing
  peaks at about 3 KB per line, and :meth:`Classifier.pipe` caps its batches at 10,000 lines.
* The decision: a line is content when its probability is at least ``threshold`` and at least
  ``relative`` times the highest probability on its page, and (``drop_repeats``) no content line
  earlier on its page has the same text. All three default to the trained values and can be
  given per call (``threshold=0, relative=0, drop_repeats=False`` keeps every line), or
  ``favor="precision"`` / ``favor="recall"``: decision presets chosen with the trained decision,
  maximising F0.5 (less, cleaner text) and F2 (less text lost) instead of F1
  (:attr:`Classifier.presets`). ``load(favor=...)`` makes a preset the classifier's own
  decision, for every call that does not give one.
* Lines longer than ``max_line_chars`` (default 10,000) are truncated *for computing features
  only*: the prediction keeps the whole line's text.

A :class:`Classifier` holds no per-call state: share one between threads freely. The model uses
one OpenMP thread per call unless ``n_threads`` says otherwise: scale with processes
(``Classifier.pipe(..., n_process=N)`` runs its batches in N forked worker processes). Loading a
model never executes code from the model file (see :mod:`textclf.serialization`).

This module imports nothing heavy: scikit-learn, pandas and MLflow load when a model does.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import math
import numbers
import operator
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, runtime_checkable

from textclf.errors import InputError, ModelError, ModelNotFoundError
from textclf.pages import Line, join_lines, lines_from_text

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CHAMPION_URI",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_MAX_LINE_CHARS",
    "DEFAULT_MAX_PAGE_BYTES",
    "DEFAULT_MAX_PAGE_LINES",
    "MODEL_ENV",
    "TOPIC_CHAMPION_URI",
    "TOPIC_MODEL_ENV",
    "Classifier",
    "LinePrediction",
    "PagePrediction",
    "TopicModel",
    "load",
]

CHAMPION_URI = "models:/textclf-boilerplate@champion"
MODEL_ENV = "TEXTCLF_MODEL_URI"
TOPIC_CHAMPION_URI = "models:/textclf-topics@champion"
TOPIC_MODEL_ENV = "TEXTCLF_TOPIC_MODEL_URI"
MODEL_FILE = "model.skops"
# What Classifier.save writes, and what load() reads back from a folder.
SAVED_MODEL_FILE = "boilerplate.skops"
SAVED_TOPIC_FILE = "topics.skops"

DEFAULT_MAX_PAGE_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_PAGE_LINES = 100_000
DEFAULT_MAX_LINE_CHARS = 10_000
# pipe() predicts a batch early once it holds this many lines, so memory stays bounded when the
# pages are long (featurizing takes ~3 KB per line at its peak). Batches of 5,000-10,000 lines run
# fastest: on the WCXB test pages 32 pages a batch gave ~37k lines/s, 64 pages ~34k.
_BATCH_MAX_LINES = 10_000
#: Pages per batch of :meth:`Classifier.pipe` (and of the CLI and the benchmark).
DEFAULT_BATCH_SIZE = 32

Label = Literal["content", "boilerplate"]
URI_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")  # two letters at least: "C:\..." is a path


@runtime_checkable
class TopicModel(Protocol):
    """What a topic model attached to a :class:`Classifier` provides.

    ``predict_topics`` gets the same lines table the content model gets (columns ``page_id``,
    ``text``, ``blank_before``, ``blank_after``; long lines truncated) and returns the topics of
    each row. Pass one to :func:`load` or :class:`Classifier` as ``topic_model``; without one,
    ``LinePrediction.topics`` is ``None``. (Loading ``models:/textclf-topics@champion``
    automatically comes with the topic model itself.)
    """

    def predict_topics(self, lines: pd.DataFrame) -> list[list[str]]: ...


_Predicted = TypeVar("_Predicted", bound=type)


def _pickled_as_fields(cls: _Predicted) -> _Predicted:
    """Pickle the instances of a dataclass as its constructor and its fields' values: several
    times faster than a slotted dataclass's own state, which matters when
    ``pipe(n_process=...)`` sends every line back from its workers."""
    values = operator.attrgetter(*(f.name for f in fields(cls)))

    def __reduce__(self: Any) -> tuple[Any, ...]:
        return cls, values(self)

    setattr(cls, "__reduce__", __reduce__)  # noqa: B010 (a method, set on the class)
    return cls


@_pickled_as_fields
@dataclass(frozen=True, slots=True)
class LinePrediction:
    """The prediction for one non-empty line of a page.

    ``topics`` is ``None`` when the classifier has no topic model, else the line's topics
    (possibly empty). ``line_index`` is the line's position in the input, counting from 0 and
    counting blank lines: the page's raw lines split on ``\\n``, ``\\r\\n`` and ``\\r``
    (the entry's position for :meth:`Classifier.predict_lines`; for HTML, the line of the
    rendered text); -1 when unknown.

    >>> LinePrediction("Share this", "boilerplate", 0.125, line_index=4).to_dict()["line_index"]
    4
    """

    text: str
    label: Label
    probability: float
    topics: tuple[str, ...] | None = None
    line_index: int = -1

    @property
    def is_content(self) -> bool:
        return self.label == "content"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ``text``, ``label``, ``probability``, ``topics`` (list or None),
        ``line_index``."""
        return {
            "text": self.text,
            "label": self.label,
            "probability": self.probability,
            "topics": None if self.topics is None else list(self.topics),
            "line_index": self.line_index,
        }


@_pickled_as_fields
@dataclass(frozen=True, slots=True)
class PagePrediction:
    """The predictions for the non-empty lines of one page, in page order.

    ``topics`` is ``None`` without a topic model, else the page's topics: those of its content
    lines, rolled up by the topic model's page rule (:func:`textclf.topics.page_topics`).

    >>> page = PagePrediction(
    ...     (LinePrediction("Menu", "boilerplate", 0.1), LinePrediction("Story.", "content", 0.9)),
    ...     threshold=0.5,
    ... )
    >>> page.content
    'Story.'
    >>> len(page), page.to_dict()["content"]
    (2, 'Story.')
    """

    lines: tuple[LinePrediction, ...] = ()
    threshold: float = 0.5
    topics: tuple[str, ...] | None = None
    #: A content line also reached this share of the page's highest probability (0: no such rule).
    relative_threshold: float = 0.0
    #: Whether a line repeating the text of an earlier content line of the page was boilerplate.
    drop_repeats: bool = False
    #: The relative share was taken of the page's highest probability raised to this power.
    relative_power: float = 1.0

    @property
    def content(self) -> str:
        """The content lines, joined by newlines (``""`` when there are none)."""
        return "\n".join(line.text for line in self.lines if line.label == "content")

    @property
    def content_lines(self) -> tuple[LinePrediction, ...]:
        return tuple(line for line in self.lines if line.label == "content")

    def __len__(self) -> int:
        return len(self.lines)

    def __iter__(self) -> Iterator[LinePrediction]:
        return iter(self.lines)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ``lines`` (see :meth:`LinePrediction.to_dict`), ``content``,
        ``threshold``, ``relative_threshold``, ``drop_repeats``, ``relative_power``, and ``topics``
        (a list) when the page has topics (a topic model)."""
        out: dict[str, Any] = {
            "lines": [line.to_dict() for line in self.lines],
            "content": self.content,
            "threshold": self.threshold,
            "relative_threshold": self.relative_threshold,
            "drop_repeats": self.drop_repeats,
            "relative_power": self.relative_power,
        }
        if self.topics is not None:
            out["topics"] = list(self.topics)
        return out


_GC_LOCK = threading.Lock()
_gc_depth = 0
_gc_was_enabled = False


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a batch is split and predicted.

    A batch allocates hundreds of thousands of small objects (lines, predictions), which makes
    the collector run again and again over every object of the process (the loaded model, the
    caller's data): about a sixth of prediction time. Reference counting still frees the
    batch's garbage; the collector is switched back on (if it was on) when the last concurrent
    batch ends, and the caller's code never runs with it paused.
    """
    global _gc_depth, _gc_was_enabled
    with _GC_LOCK:
        if _gc_depth == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_depth += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _gc_depth -= 1
            if _gc_depth == 0 and _gc_was_enabled:
                gc.enable()


def _without_gc(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _gc_paused():
            return method(*args, **kwargs)

    return wrapper


class Classifier:
    """A fitted content/boilerplate pipeline with a page-level API. Get one with :func:`load`.

    Parameters
    ----------
    pipeline
        A fitted textclf pipeline (``LineFeaturizer`` first, a classifier with ``threshold_``
        last), as :func:`textclf.models.build_pipeline` builds and ``make train`` logs.
    topic_model
        Optional; an object with ``predict_topics`` (see :class:`TopicModel`).
    source
        Where the model came from, for messages and ``repr``.
    max_page_bytes, max_page_lines, max_line_chars
        Input limits; see the module docstring.
    n_threads
        OpenMP threads the model may use per call (``None``: its default, one per core). 1 by
        default: pipelines scale by running one process per core, and OpenMP threads that wait
        for a busy core slow prediction down many times over.
    favor
        One of the model's :attr:`presets` as this classifier's decision: every call uses it
        unless it gives a decision of its own (``threshold``/``relative``, or another
        ``favor``). ``None`` (the default): the trained decision. An unknown name, or a model
        without presets, raises :class:`~textclf.errors.InputError`.

    Examples (``clf`` is a loaded classifier)::

        >>> clf.extract("")
        ''
        >>> clf.predict_page("Menu\\n\\nA line.", threshold=0, relative=0).content  # keep all
        'Menu\\nA line.'
        >>> clf.predict_lines(["Menu", "", "A line."]).lines[1].text
        'A line.'
        >>> clf.predict_page("x", threshold=2)
        Traceback (most recent call last):
        ...
        textclf.errors.InputError: threshold must be a number between 0 and 1, got 2
    """

    __slots__ = (
        "_drop_repeats",
        "_favor",
        "_max_line_chars",
        "_max_page_bytes",
        "_max_page_lines",
        "_n_threads",
        "_pipeline",
        "_presets",
        "_relative",
        "_relative_power",
        "_source",
        "_threadpools",
        "_threshold",
        "_topic_model",
    )

    def __init__(
        self,
        pipeline: Any,
        *,
        topic_model: TopicModel | None = None,
        source: str = "",
        max_page_bytes: int = DEFAULT_MAX_PAGE_BYTES,
        max_page_lines: int = DEFAULT_MAX_PAGE_LINES,
        max_line_chars: int = DEFAULT_MAX_LINE_CHARS,
        n_threads: int | None = 1,
        favor: str | None = None,
    ) -> None:
        for name, value in (
            ("max_page_bytes", max_page_bytes),
            ("max_page_lines", max_page_lines),
            ("max_line_chars", max_line_chars),
            ("n_threads", 1 if n_threads is None else n_threads),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(f"{name} must be a positive int, got {value!r}")
        if topic_model is not None and not isinstance(topic_model, TopicModel):
            raise ModelError(
                f"the topic model ({type(topic_model).__name__}) has no predict_topics method"
            )
        self._source = str(source)
        (
            self._threshold,
            self._relative,
            self._drop_repeats,
            self._relative_power,
            self._presets,
        ) = _check_pipeline(pipeline, self._source)
        self._favor = favor
        if favor is not None:  # the preset becomes this classifier's decision
            self._threshold, self._relative = self._preset(favor)
        self._pipeline = pipeline
        self._topic_model = topic_model
        self._max_page_bytes = max_page_bytes
        self._max_page_lines = max_page_lines
        self._max_line_chars = max_line_chars
        self._n_threads = n_threads
        self._threadpools = None
        if n_threads is not None:
            from threadpoolctl import ThreadpoolController  # a scikit-learn dependency

            self._threadpools = ThreadpoolController()
        _smoke_test(self)

    # ------------------------------------------------------------------ read-only attributes
    @property
    def threshold(self) -> float:
        """The decision threshold (the trained one, or the preset's of :attr:`favor`): a line is
        content when its probability is >= it (and >= :attr:`relative_threshold` times the
        page's highest probability to the power :attr:`relative_power`)."""
        return self._threshold

    @property
    def relative_threshold(self) -> float:
        """The page-relative part of the decision (the trained one, or the preset's of
        :attr:`favor`): a content line's probability is also
        >= this share of the highest probability on its page, raised to :attr:`relative_power`
        (0: no such rule). It drops the middling lines (teasers, captions) of a page whose main
        text the model is sure of."""
        return self._relative

    @property
    def relative_power(self) -> float:
        """The model's power of the page's highest probability in the relative part (1: the
        plain share). With 12, a page whose best line is at 0.99 asks its lines for
        :attr:`relative_threshold` x 0.89, one whose best line is at 0.85 for
        :attr:`relative_threshold` x 0.14: the more the model is sure of a page's main text,
        the more it asks of the page's other lines. It belongs to the model: a ``relative``
        given per call is a share of the same reference."""
        return self._relative_power

    @property
    def presets(self) -> dict[str, tuple[float, float]]:
        """The model's decision presets: name -> (threshold, relative), chosen when the model
        was trained, where its decision was, each maximising an F-beta of the content:
        ``"precision"`` (F0.5) keeps less and cleaner text, ``"recall"`` (F2) loses less of
        it. ``favor="precision"`` uses one for a call. Empty for models trained without."""
        return dict(self._presets)

    @property
    def favor(self) -> str | None:
        """The preset this classifier decides with (``load(favor=...)``); ``None``: the trained
        decision."""
        return self._favor

    @property
    def drop_repeats(self) -> bool:
        """Whether the trained decision drops repeats: a line whose text a content line earlier
        on its page already has is boilerplate (a headline repeated in a teaser, a block
        printed twice), so the page's content holds each text once."""
        return self._drop_repeats

    @property
    def pipeline(self) -> Any:
        """The underlying scikit-learn pipeline (do not modify it while predicting)."""
        return self._pipeline

    @property
    def topic_model(self) -> TopicModel | None:
        return self._topic_model

    @property
    def source(self) -> str:
        return self._source

    @property
    def max_page_bytes(self) -> int:
        return self._max_page_bytes

    @property
    def max_page_lines(self) -> int:
        return self._max_page_lines

    @property
    def max_line_chars(self) -> int:
        return self._max_line_chars

    @property
    def n_threads(self) -> int | None:
        return self._n_threads

    def __repr__(self) -> str:
        source = self._source or "in-memory pipeline"
        topics = ", topics" if self._topic_model is not None else ""
        favor = "" if self._favor is None else f"favor={self._favor!r}, "
        return (
            f"Classifier({source}, {favor}threshold={self._threshold:g}, "
            f"relative={self._relative:g}, relative_power={self._relative_power:g}, "
            f"drop_repeats={self._drop_repeats}{topics})"
        )

    # ------------------------------------------------------------------ saving
    def save(self, directory: str | os.PathLike[str]) -> list[Path]:
        """Write the model to ``directory`` as plain skops files, to load on a machine without
        the MLflow store: ``boilerplate.skops`` and, with a topic model, ``topics.skops``.
        ``load(directory)`` reads both back. Each file is written atomically, and a
        ``topics.skops`` left there by an earlier save is removed first, so that the folder
        never pairs models of two saves, even when a write fails. The decision (threshold,
        presets) is part of the model; ``favor`` and the input limits are not saved.
        Returns the paths written.

        >>> clf.save("model")  # doctest: +SKIP
        [PosixPath('model/boilerplate.skops'), PosixPath('model/topics.skops')]
        >>> load("model")  # doctest: +SKIP
        """
        from textclf.serialization import dump_model

        folder = Path(directory)
        if folder.exists() and not folder.is_dir():
            raise InputError(f"{folder} exists and is not a folder")
        topics = folder / SAVED_TOPIC_FILE
        topics.unlink(missing_ok=True)  # first: a failed save leaves no pair of two saves
        written = [dump_model(self._pipeline, folder / SAVED_MODEL_FILE)]
        if self._topic_model is not None:
            written.append(dump_model(self._topic_model, topics))
        return written

    # ------------------------------------------------------------------ one page
    def predict_page(
        self,
        text: str | bytes,
        *,
        threshold: float | None = None,
        relative: float | None = None,
        drop_repeats: bool | None = None,
        favor: str | None = None,
    ) -> PagePrediction:
        """Classify every non-empty line of a page of plain text (``str``, or UTF-8 ``bytes``).

        ``threshold``, ``relative`` and ``drop_repeats`` override the classifier's decision for
        this call (see :attr:`threshold`, :attr:`relative_threshold` and :attr:`drop_repeats`);
        ``favor`` takes one of the model's :attr:`presets` instead (``"precision"``: less and
        cleaner text; ``"recall"``: less text lost), and excludes ``threshold`` and
        ``relative``. The other methods take the same arguments.

        >>> [line.text for line in clf.predict_page(b"  Title \\r\\n\\r\\nBody\\x00 text.").lines]
        ['Title', 'Body text.']
        """
        decision = self._decision(threshold, relative, drop_repeats, favor)
        return self._predict_batch([self._page_lines(text)], *decision)[0]

    def predict_lines(
        self,
        lines: Iterable[str],
        *,
        threshold: float | None = None,
        relative: float | None = None,
        drop_repeats: bool | None = None,
        favor: str | None = None,
    ) -> PagePrediction:
        """Classify a page given as its lines; empty entries count as blank lines between blocks.

        A bare ``str`` or ``bytes`` is refused (:class:`~textclf.errors.InputError`): use
        :meth:`predict_page`, which splits on ``\\n``, ``\\r\\n`` and ``\\r`` only
        (``str.splitlines`` also splits on form feeds, U+2028 and others). An entry holding a
        line break is one line: its breaks become spaces.

        >>> [line.text for line in clf.predict_lines(["Menu", "", "  Story. "]).lines]
        ['Menu', 'Story.']
        """
        decision = self._decision(threshold, relative, drop_repeats, favor)
        # One entry a line of a page text: the same checks and cleaning as predict_page.
        return self._predict_batch([self._page_lines(join_lines(lines))], *decision)[0]

    def extract(
        self,
        text: str | bytes,
        *,
        threshold: float | None = None,
        relative: float | None = None,
        drop_repeats: bool | None = None,
        favor: str | None = None,
    ) -> str:
        """The content of a page of plain text: its content lines joined by newlines.

        >>> clf.extract("") == clf.predict_page("").content == ""
        True
        """
        return self.predict_page(
            text, threshold=threshold, relative=relative, drop_repeats=drop_repeats, favor=favor
        ).content

    def predict_html(
        self,
        html: str | bytes,
        *,
        threshold: float | None = None,
        relative: float | None = None,
        drop_repeats: bool | None = None,
        favor: str | None = None,
    ) -> PagePrediction:
        """Render an HTML page to its visible text (:func:`textclf.render.html_to_text`), then
        classify its lines.

        >>> [line.text for line in clf.predict_html("<h1>Title</h1><p>Body <b>text</b>.</p>")]
        ['Title', 'Body text.']
        """
        decision = self._decision(threshold, relative, drop_repeats, favor)
        return self._predict_batch([self._page_lines(html, html=True)], *decision)[0]

    # ------------------------------------------------------------------ many pages
    def pipe(
        self,
        pages: Iterable[str | bytes],
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        threshold: float | None = None,
        relative: float | None = None,
        drop_repeats: bool | None = None,
        favor: str | None = None,
        html: bool = False,
        n_process: int = 1,
    ) -> Iterator[PagePrediction]:
        """Classify many pages, yielding one :class:`PagePrediction` per page in input order.

        Pages are featurized and predicted ``batch_size`` at a time (fewer when a batch would
        exceed 10,000 lines), which is much faster than one :meth:`predict_page` call per page.
        ``pages`` may be any iterable (a generator is consumed lazily); with ``html=True`` each
        page is HTML and is rendered first. A bad page raises
        :class:`~textclf.errors.InputError` naming its position in the input (counting from 0)
        once the pages before it have been yielded; so does an exception of ``pages`` itself.

        ``n_process`` > 1 (-1: one per core) shares the batches among that many worker
        processes, forked from this one (so the model is not copied; POSIX only) and closed when
        the iteration ends. The results and the errors are the same as with one process; a few
        batches are read ahead of the consumer.

        >>> [p.content == clf.extract(t) for t, p in zip(["A.", "B"], clf.pipe(["A.", "B"]))]
        [True, True]
        """
        if isinstance(pages, str | bytes | bytearray):
            raise InputError(
                "pipe() takes an iterable of pages, got a single "
                f"{type(pages).__name__}; wrap it in a list or use predict_page()"
            )
        if not isinstance(pages, Iterable):
            raise InputError(f"pipe() takes an iterable of pages, got {pages!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InputError(f"batch_size must be a positive int, got {batch_size!r}")
        decision = self._decision(threshold, relative, drop_repeats, favor)
        processes = check_n_process(n_process)
        if processes == 1:
            return self._pipe(iter(pages), batch_size, decision, html)
        return self._pipe_processes(iter(pages), batch_size, decision, html, processes)

    def _pipe(
        self,
        pages: Iterator[str | bytes],
        batch_size: int,
        decision: tuple[float, float, bool],
        html: bool,
        start: int = 0,
    ) -> Iterator[PagePrediction]:
        """``start``: the input position of the first page (for error messages)."""
        batch: list[list[Line]] = []
        n_lines = 0
        failed: list[Exception] = []
        for index, page in enumerate(_until_failure(pages, failed), start):
            try:
                lines = self._page_lines(page, html=html)
            except InputError as exc:
                error = InputError(f"page {index} of the input: {exc}")
                error.__cause__ = exc
            else:
                batch.append(lines)
                n_lines += len(lines)
                if len(batch) >= batch_size or n_lines >= _BATCH_MAX_LINES:
                    yield from self._predict_batch(batch, *decision)
                    batch, n_lines = [], 0
                continue
            # The pages before the bad one are not lost.
            if batch:
                yield from self._predict_batch(batch, *decision)
            raise error
        if batch:
            yield from self._predict_batch(batch, *decision)
        if failed:  # the input itself failed: the pages read before are done
            raise failed[0]

    def _pipe_processes(
        self,
        pages: Iterator[str | bytes],
        batch_size: int,
        decision: tuple[float, float, bool],
        html: bool,
        processes: int,
    ) -> Iterator[PagePrediction]:
        """:meth:`_pipe` with each batch of pages run by one of ``processes`` forked workers."""
        import collections
        import itertools
        import multiprocessing
        from concurrent.futures import Future, ProcessPoolExecutor

        # Forked workers inherit the classifier (the initializer's argument is not pickled).
        pool = ProcessPoolExecutor(
            processes,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_start_worker,
            initargs=(self,),
        )
        pending: collections.deque[Future[_WorkerResult]] = collections.deque()
        start = 0
        failed: list[Exception] = []
        pages = _until_failure(pages, failed)

        def submit() -> None:
            nonlocal start
            chunk = list(itertools.islice(pages, batch_size))
            if chunk:
                pending.append(pool.submit(_run_worker, chunk, start, batch_size, decision, html))
                start += len(chunk)

        try:
            for _ in range(2 * processes):  # enough to keep every worker busy
                submit()
            while pending:
                done, error = pending.popleft().result()
                yield from done
                if error is not None:
                    raise error
                submit()
            if failed:
                raise failed[0]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    # ------------------------------------------------------------------ internals
    def _decision(
        self,
        threshold: float | None,
        relative: float | None,
        drop_repeats: bool | None,
        favor: str | None = None,
    ) -> tuple[float, float, bool]:
        """The (threshold, relative, drop_repeats) of a call: the classifier's (the trained ones,
        or its preset's), those of the preset ``favor`` names, or those given."""
        if drop_repeats is None:
            drop_repeats = self._drop_repeats
        elif not isinstance(drop_repeats, bool):
            raise InputError(f"drop_repeats must be True, False or None, got {drop_repeats!r}")
        if favor is None:
            base = (self._threshold, self._relative)
        elif threshold is not None or relative is not None:
            raise InputError(
                "give favor= or threshold=/relative=, not both: a preset is a threshold and a "
                "relative part"
            )
        else:
            base = self._preset(favor)
        return (
            _fraction(threshold, "threshold", base[0]),
            _fraction(relative, "relative", base[1]),
            drop_repeats,
        )

    def _preset(self, favor: object) -> tuple[float, float]:
        """The (threshold, relative) of the preset named ``favor``."""
        if not isinstance(favor, str):
            raise InputError(f"favor must be a preset name or None, got {favor!r}")
        if favor not in self._presets:
            if not self._presets:
                raise InputError(
                    f"favor={favor!r}: the model ({self._source}) has no decision presets "
                    "(it was trained before they existed, or without them); retrain "
                    "it with `make train`, or pass threshold= and relative="
                )
            raise InputError(
                f"favor={favor!r}: no such preset; the model has {sorted(self._presets)}"
            )
        return self._presets[favor]

    def _check_size(self, size: int) -> None:
        if size > self._max_page_bytes:
            raise InputError(
                f"page too large: {size:,} bytes, more than max_page_bytes="
                f"{self._max_page_bytes:,}; split it or pass a larger max_page_bytes to load()"
            )

    def _check_line_count(self, n_lines: int) -> None:
        if n_lines > self._max_page_lines:
            raise InputError(
                f"page has {n_lines:,} lines, more than max_page_lines="
                f"{self._max_page_lines:,}; split it or pass a larger max_page_lines to load()"
            )

    def _checked(self, page: object, what: str) -> str | bytes:
        """``page`` as str or bytes, refused when it is of another type or too large."""
        if isinstance(page, bytes | bytearray | memoryview):
            page = bytes(page)
            self._check_size(len(page))
        elif isinstance(page, str):
            self._check_size(_utf8_size(page, self._max_page_bytes))
        else:
            raise InputError(f"expected {what} as str or bytes, got {type(page).__name__}")
        return page

    @_without_gc
    def _page_lines(self, page: object, *, html: bool = False) -> list[Line]:
        """The lines of a page: decoded (bytes: see :func:`decode_text`), rendered when HTML, NULs
        dropped, refused when it has too many lines."""
        if html:
            from textclf.render import html_to_text

            checked = self._checked(page, "an HTML page")
            text = html_to_text(_clean_text(checked) if isinstance(checked, str) else checked)
        else:
            checked = self._checked(page, "a page")
            if isinstance(checked, bytes):
                from textclf.render import decode_text

                checked = decode_text(checked)
            text = checked
        text = _clean_text(text)
        # Counted before splitting: even blank lines cost memory once split.
        self._check_line_count(text.count("\n") + text.count("\r") - text.count("\r\n") + 1)
        return lines_from_text(text)

    @_without_gc
    def _predict_batch(
        self, pages: list[list[Line]], threshold: float, relative: float, drop_repeats: bool
    ) -> list[PagePrediction]:
        """One featurizer and one model call for all the lines of ``pages``."""
        import numpy as np

        from textclf.models import content_mask

        if not any(pages):
            empty_topics = self._page_topics([])  # () with a topic model, else None
            return [
                PagePrediction(
                    (), threshold, empty_topics, relative, drop_repeats, self._relative_power
                )
                for _ in pages
            ]
        frame = self._frame(pages)
        if self._threadpools is None:
            proba = self._pipeline.predict_proba(frame)[:, 1]
        else:  # the limit is per calling thread: concurrent callers do not interfere
            with self._threadpools.limit(limits=self._n_threads, user_api="openmp"):
                proba = self._pipeline.predict_proba(frame)[:, 1]
        proba = proba.clip(0.0, 1.0)
        probabilities = proba.tolist()
        topics: list[tuple[str, ...]] | list[None]
        if self._topic_model is not None:
            topics = [tuple(t) for t in self._topic_model.predict_topics(frame)]
            if len(topics) != len(probabilities):
                raise ModelError(
                    f"the topic model returned {len(topics)} rows for {len(probabilities)} lines"
                )
        else:
            topics = [None] * len(probabilities)
        page_of_line = np.repeat(np.arange(len(pages)), [len(page) for page in pages])
        texts = [line.text for page in pages for line in page] if drop_repeats else None
        content = content_mask(
            proba, page_of_line, threshold, relative, texts, self._relative_power
        ).tolist()
        out: list[PagePrediction] = []
        i = 0
        for page in pages:
            preds = []
            for line in page:
                label: Label = "content" if content[i] else "boilerplate"
                preds.append(
                    LinePrediction(line.text, label, probabilities[i], topics[i], line.index)
                )
                i += 1
            out.append(
                PagePrediction(
                    tuple(preds),
                    threshold,
                    self._page_topics(preds),
                    relative,
                    drop_repeats,
                    self._relative_power,
                )
            )
        return out

    def _page_topics(self, preds: list[LinePrediction]) -> tuple[str, ...] | None:
        """The page's topics from its content lines' topics (``None`` without a topic model)."""
        if self._topic_model is None:
            return None
        from textclf.topics import PageRule, page_topics

        rule = getattr(self._topic_model, "page_rule_", None) or PageRule()
        line_topics = [x.topics or () for x in preds]
        return tuple(page_topics(line_topics, [x.is_content for x in preds], rule))

    def _frame(self, pages: list[list[Line]]) -> pd.DataFrame:
        from textclf.features import lines_frame

        cap = self._max_line_chars
        return lines_frame(
            [[ln.text if len(ln.text) <= cap else ln.text[:cap] for ln in page] for page in pages],
            blanks=[[(ln.blank_before, ln.blank_after) for ln in page] for page in pages],
        )


def _until_failure(pages: Iterator[str | bytes], failed: list[Exception]) -> Iterator[str | bytes]:
    """The pages of ``pages`` up to an exception of the iterator itself (a file that cannot be
    read, say), which ends them and is appended to ``failed``: the caller predicts the pages
    read before it, then raises it."""
    while True:
        try:
            page = next(pages)
        except StopIteration:
            return
        except Exception as exc:
            failed.append(exc)
            return
        yield page


_WORKER: Classifier | None = None
_WorkerResult = tuple[list[PagePrediction], InputError | None]


def _start_worker(classifier: Classifier) -> None:
    """Set up a forked worker of :meth:`Classifier.pipe`."""
    import copy

    from threadpoolctl import ThreadpoolController

    global _WORKER, _GC_LOCK, _gc_depth
    # Another thread of the parent may have held the lock, or paused the collector, as it forked.
    if _gc_depth and _gc_was_enabled:
        gc.enable()
    _GC_LOCK, _gc_depth = threading.Lock(), 0
    # One OpenMP thread per worker: the workers share the cores, and OpenMP thread pools set up
    # before a fork are not safe to use after it.
    worker = copy.copy(classifier)
    worker._n_threads = 1
    worker._threadpools = classifier._threadpools or ThreadpoolController()
    _WORKER = worker


def _run_worker(
    pages: list[str | bytes],
    start: int,
    batch_size: int,
    decision: tuple[float, float, bool],
    html: bool,
) -> _WorkerResult:
    """One batch of :meth:`Classifier.pipe` in a worker process: its predictions, up to the
    first bad page, and that page's error (the pages after it are not predicted, as in one
    process)."""
    assert _WORKER is not None  # set by _start_worker when the worker starts
    done: list[PagePrediction] = []
    try:
        done.extend(_WORKER._pipe(iter(pages), batch_size, decision, html, start))
    except InputError as exc:
        return done, exc
    return done, None


def check_n_process(value: object) -> int:
    """The number of worker processes ``n_process`` asks for (-1: one per core); an
    :class:`~textclf.errors.InputError` for any other value, or for more than one where
    processes cannot be forked."""
    import multiprocessing

    if isinstance(value, bool) or not isinstance(value, int) or value == 0 or value < -1:
        raise InputError(f"n_process must be a positive int or -1 (one per core), got {value!r}")
    processes = (os.cpu_count() or 1) if value == -1 else value
    if processes > 1 and "fork" not in multiprocessing.get_all_start_methods():
        raise InputError(
            "n_process > 1 needs the fork start method, which this platform lacks; "
            "use n_process=1 and run one process per core"
        )
    return processes


_SURROGATES = re.compile("[\ud800-\udfff]")


def _clean_text(text: str) -> str:
    """``text`` without NUL characters, lone surrogates replaced by U+FFFD."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = _SURROGATES.sub("\ufffd", text)
    return text


def _fraction(value: float | None, name: str, default: float) -> float:
    if value is None:
        return default
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        out = float(value)
        if 0.0 <= out <= 1.0:  # False for NaN
            return out
    raise InputError(f"{name} must be a number between 0 and 1, got {value!r}")


def _utf8_size(text: str, limit: int) -> int:
    """The UTF-8 size of ``text``, encoding it only when its length alone cannot decide."""
    if len(text) * 4 <= limit or len(text) > limit:
        return len(text)  # decides the check either way (1 to 4 bytes per character)
    return len(text.encode("utf-8", "surrogatepass"))


def _check_pipeline(
    model: Any, source: str
) -> tuple[float, float, bool, float, dict[str, tuple[float, float]]]:
    """Check ``model`` is a fitted content/boilerplate pipeline; return its threshold, its
    relative threshold (0 for models trained without one), whether it drops repeats, its
    relative power (1 for models trained without one) and its decision presets (none for
    models trained without them)."""
    from textclf.features import LineFeaturizer
    from textclf.models import decision_of, presets_of

    where = f" {source}" if source else ""
    steps = getattr(model, "steps", None)
    last = steps[-1][1] if isinstance(steps, list) and steps else None
    if (
        not steps
        or not hasattr(model, "predict_proba")
        or not isinstance(steps[0][1], LineFeaturizer)
        or getattr(last, "threshold_", None) is None
    ):
        raise ModelError(
            f"model{where} is a model of the wrong task ({type(model).__name__}): expected a "
            "content/boilerplate pipeline (LineFeaturizer first, a classifier with predict_proba "
            "and a trained threshold_ last), as `make train` registers"
        )
    try:
        threshold, relative, repeats, power = decision_of(last)
        presets = presets_of(last)
    except ModelError as exc:
        raise ModelError(f"model{where}: {exc}") from None
    for name, value in (("threshold_", threshold), ("relative_threshold_", relative)):
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Real)
            or not 0.0 <= float(value) <= 1.0
        ):
            raise ModelError(f"model{where} has {name} {value!r}, not a number in [0, 1]")
    return float(threshold), float(relative), repeats, power, presets


def _smoke_test(clf: Classifier) -> None:
    """Predict one tiny page so an unfitted or mismatched model fails at load, not later."""
    try:
        page = clf.predict_page("Home | About\n\nA short sentence about the weather today.")
    except Exception as exc:
        raise ModelError(
            f"model {clf.source or '(in-memory)'} cannot predict a sample page: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    if len(page.lines) != 2 or not all(math.isfinite(x.probability) for x in page.lines):
        raise ModelError(f"model {clf.source or '(in-memory)'} gives invalid probabilities")


# ---------------------------------------------------------------------- loading
def load(
    model: str | os.PathLike[str] | None = None,
    *,
    topic_model: TopicModel | str | os.PathLike[str] | Literal[False] | None = None,
    max_page_bytes: int = DEFAULT_MAX_PAGE_BYTES,
    max_page_lines: int = DEFAULT_MAX_PAGE_LINES,
    max_line_chars: int = DEFAULT_MAX_LINE_CHARS,
    n_threads: int | None = 1,
    favor: str | None = None,
) -> Classifier:
    """Load a content/boilerplate model and return a :class:`Classifier`.

    ``model`` is one of:

    * a ``.skops`` file, or an MLflow model folder holding ``model.skops``;
    * a folder written by :meth:`Classifier.save` (``textclf export``): its
      ``boilerplate.skops``, and its ``topics.skops`` as the topic model unless ``topic_model``
      says otherwise (likewise when that ``boilerplate.skops`` is given as the file);
    * an MLflow URI (``models:/textclf-boilerplate@champion``, ``models:/name/3``,
      ``runs:/<run id>/model``, or any artifact URI MLflow can download);
    * ``None``: ``$TEXTCLF_MODEL_URI`` when set, else the champion
      (``models:/textclf-boilerplate@champion``) in the project's MLflow store.

    MLflow URIs are resolved against ``$MLFLOW_TRACKING_URI``, else the project's store
    (``sqlite:///<project root>/mlflow.db``). The model file is loaded with skops, trusting only
    textclf's own types: a file needing any other type raises
    :class:`~textclf.errors.UntrustedModelError` without running any of its code.

    ``topic_model`` is a topic model object, a path or URI of one (as for ``model``), ``False``
    for none, or ``None``: the saved folder's ``topics.skops`` (above), else
    ``$TEXTCLF_TOPIC_MODEL_URI`` when set, else
    ``models:/textclf-topics@champion`` when it is registered, else no topic model (line and
    page topics are then ``None``).

    The other keyword arguments are those of :class:`Classifier`.

    Raises :class:`~textclf.errors.ModelNotFoundError` when there is no model where we looked
    (the message says how to train one) and :class:`~textclf.errors.ModelError` when the file
    is corrupted or holds a model of another task.

    >>> clf = load("models:/textclf-boilerplate@champion")  # doctest: +SKIP
    >>> clf.extract(open("page.txt").read())  # doctest: +SKIP
    """
    spec = _spec(model, MODEL_ENV)
    if spec is None:
        pipeline, source = _load_champion(), CHAMPION_URI
    else:
        pipeline, source = _load_spec(spec)
        if topic_model is None:  # a folder written by Classifier.save brings its topic model
            saved_topics = Path(source).parent / SAVED_TOPIC_FILE
            if Path(source).name == SAVED_MODEL_FILE and saved_topics.is_file():
                topic_model = saved_topics
    return Classifier(
        pipeline,
        topic_model=_resolve_topic_model(topic_model),
        source=source,
        max_page_bytes=max_page_bytes,
        max_page_lines=max_page_lines,
        max_line_chars=max_line_chars,
        n_threads=n_threads,
        favor=favor,
    )


def _spec(value: str | os.PathLike[str] | None, env: str) -> str | os.PathLike[str] | None:
    """The path or URI :func:`load` reads for ``value``: ``value``, else ``$env`` when set;
    None when neither names one (the champion, then)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return os.environ.get(env, "").strip() or None
    return value


def topic_model_source(topic_model: str | os.PathLike[str] | None = None) -> str:
    """Where ``load(topic_model=topic_model)`` looks for the topic model (``None``:
    ``$TEXTCLF_TOPIC_MODEL_URI``, else the topic champion)."""
    return str(_spec(topic_model, TOPIC_MODEL_ENV) or TOPIC_CHAMPION_URI)


def _resolve_topic_model(topic_model: Any) -> TopicModel | None:
    """The topic model ``load(topic_model=...)`` means (see :func:`load`)."""
    if topic_model is False:
        return None
    if topic_model is not None and not isinstance(topic_model, str | os.PathLike):
        return topic_model  # an object: Classifier checks it
    spec = _spec(topic_model, TOPIC_MODEL_ENV)
    if spec is None:
        found = _load_topic_champion()
        source = TOPIC_CHAMPION_URI
    else:
        where = "topic_model" if topic_model is not None else f"${TOPIC_MODEL_ENV}"
        try:
            found, source = _load_spec(spec)
        except (ModelNotFoundError, ModelError) as exc:  # the same error, saying which model
            raise type(exc)(f"topic model ({where}): {exc}") from exc
    if found is not None and not isinstance(found, TopicModel):
        raise ModelError(
            f"{source} is a model of the wrong task ({type(found).__name__}): expected a topic "
            "model with predict_topics, as `make train` registers as textclf-topics"
        )
    return found


def _load_topic_champion() -> Any:
    """The registered topic champion, or ``None`` when there is none (no error)."""
    uri = _tracking_uri()
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).is_file():
        return None
    try:
        return _load_mlflow(TOPIC_CHAMPION_URI, uri)
    except ModelNotFoundError:
        return None


def _load_spec(spec: str | os.PathLike[str]) -> tuple[Any, str]:
    if not isinstance(spec, str | os.PathLike):
        raise TypeError(f"model must be a path or a URI string, got {type(spec).__name__}")
    text = os.fspath(spec)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    text = text.strip()
    match = URI_SCHEME.match(text)
    if match and match.group(1).lower() != "file":
        return _load_mlflow(text, _tracking_uri()), text
    if match:  # file: URI
        from urllib.parse import urlsplit
        from urllib.request import url2pathname

        text = url2pathname(urlsplit(text).path)
    return _load_path(Path(text).expanduser())


def _load_path(path: Path) -> tuple[Any, str]:
    from textclf.serialization import load_model_file

    if path.is_dir():
        if (path / SAVED_MODEL_FILE).is_file():  # written by Classifier.save
            path = path / SAVED_MODEL_FILE
        elif (path / MODEL_FILE).is_file():  # an MLflow model folder
            path = path / MODEL_FILE
        else:
            raise ModelNotFoundError(
                f"{path} is a folder without {SAVED_MODEL_FILE} or {MODEL_FILE}: pass a .skops "
                "file, a folder written by Classifier.save (textclf export), or an MLflow model "
                "folder logged with serialization_format='skops'"
            )
    elif not path.exists():
        raise ModelNotFoundError(
            f"no model file at {path}; pass an existing .skops file, an MLflow model folder or "
            "URI, or train one with `make train`"
        )
    return load_model_file(path), str(path)


def _tracking_uri() -> str:
    """``$MLFLOW_TRACKING_URI``, else the project's SQLite store (which may not exist yet)."""
    from textclf.tracking import tracking_uri

    return tracking_uri()


def _load_champion() -> Any:
    uri = _tracking_uri()
    how = (
        f"No content/boilerplate model found: nothing is registered as {CHAMPION_URI} in {uri}. "
        "Train and register one with `make train`, or pass a model to load() "
        f"(a .skops file or an MLflow URI), or set ${MODEL_ENV}."
    )
    # Do not let MLflow create an empty project store just to find nothing in it.
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).is_file():
        raise ModelNotFoundError(how)
    try:
        return _load_mlflow(CHAMPION_URI, uri)
    except ModelNotFoundError as exc:
        raise ModelNotFoundError(how) from exc


def _load_mlflow(uri: str, tracking_uri: str) -> Any:
    """Download an MLflow model's artifacts to a temporary folder and load its skops file.

    ``models:/`` URIs are resolved with a client bound to ``tracking_uri``: MLflow's own resolver
    would use the process-wide registry URI instead (and create ``./mlflow.db`` when none is set).
    """
    import mlflow.artifacts
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from textclf.serialization import load_model_file

    registry_uri = os.environ.get("MLFLOW_REGISTRY_URI", "").strip() or tracking_uri
    from textclf.tracking import no_progress_bars

    with tempfile.TemporaryDirectory(prefix="textclf-model-") as tmp, no_progress_bars():
        try:
            source = uri
            if uri.lower().startswith("models:"):
                client = MlflowClient(tracking_uri=tracking_uri, registry_uri=registry_uri)
                source = _models_uri_location(client, uri)
            local = Path(
                mlflow.artifacts.download_artifacts(
                    artifact_uri=source,
                    dst_path=tmp,
                    tracking_uri=tracking_uri,
                    registry_uri=registry_uri,
                )
            )
        except MlflowException as exc:
            if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "NOT_FOUND", "ENDPOINT_NOT_FOUND"):
                raise ModelNotFoundError(
                    f"no model at {uri} (tracking store {tracking_uri}): {exc.message}"
                ) from exc
            raise ModelError(f"could not fetch {uri} from {tracking_uri}: {exc.message}") from exc
        except OSError as exc:
            raise ModelNotFoundError(f"could not fetch {uri} from {tracking_uri}: {exc}") from exc
        except ImportError as exc:  # e.g. s3:// needs boto3, gs:// google-cloud-storage
            raise ModelError(
                f"could not fetch {uri}: MLflow needs the package {exc.name or exc} for that "
                "kind of URI, and it is not installed"
            ) from exc
        except Exception as exc:  # MLflow's artifact repositories raise many kinds of errors
            raise ModelError(f"could not fetch {uri}: {type(exc).__name__}: {exc}") from exc
        skops_file = local if local.is_file() else local / MODEL_FILE
        if not skops_file.is_file():
            raise ModelError(
                f"{uri} has no {MODEL_FILE}: it was not logged by textclf "
                "(mlflow.sklearn.log_model with serialization_format='skops')"
            )
        return load_model_file(skops_file)


def _models_uri_location(client: Any, uri: str) -> str:
    """Where the artifacts of ``models:/name@alias``, ``models:/name/3``, ``models:/m-<id>`` are."""
    from mlflow.store.artifact.utils.models import get_model_name_and_version

    found = get_model_name_and_version(client, uri)
    if len(found) == 1:  # a logged model id
        return str(client.get_logged_model(found[0]).artifact_location)
    name, version = found
    return str(client.get_model_version_download_uri(name, version))
