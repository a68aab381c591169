from textclf.labels import AlignConfig, align_labels


def test_first_copy_of_headline_is_content_and_repeats_are_not():
    lines = ["Menu", "Big news today", "It rained all day long in the city.", "Big news today"]
    assert align_labels(lines, "It rained all day long in the city.", "Big news today") == [
        0,
        1,
        1,
        0,
    ]


def test_short_navigation_word_found_in_gold_is_not_content():
    gold = "Health officials said the clinic will open.\n\nStaffing\n\nThe clinic needs nurses."
    lines = [
        "Health",
        "Health officials said the clinic will open.",
        "Staffing",
        "The clinic needs nurses.",
        "Staffing",
    ]
    # "Health" sits before the first content line: no gold is left there for it.
    # The first "Staffing" sits in the gold gap between two content lines; the second does not.
    assert align_labels(lines, gold) == [0, 1, 1, 1, 0]


def test_threshold_and_min_tokens_come_from_config():
    gold = "alpha beta gamma delta epsilon"
    line = ["alpha beta gamma delta zeta eta"]  # 2 of 4 shingles match
    assert align_labels(line, gold, config=AlignConfig(threshold=0.7)) == [0]
    assert align_labels(line, gold, config=AlignConfig(threshold=0.5)) == [1]


def test_empty_gold_labels_everything_boilerplate():
    assert align_labels(["a b c", "d"], "") == [0, 0]
    assert align_labels(["a b c"], None) == [0]


def test_title_is_used_only_when_configured():
    lines = ["A title of the page", "Body text goes here today."]
    gold = "Body text goes here today."
    assert align_labels(lines, gold, "A title of the page") == [1, 1]
    cfg = AlignConfig(use_title=False)
    assert align_labels(lines, gold, "A title of the page", cfg) == [0, 1]


def test_a_page_without_main_text_has_no_content_line_not_even_its_title():
    lines = ["A title of the page", "Body text goes here today."]
    assert align_labels(lines, "", "A title of the page") == [0, 0]
    assert align_labels(lines, None, "A title of the page") == [0, 0]
