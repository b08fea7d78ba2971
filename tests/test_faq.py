import numpy as np
import pytest

from semsim.search.faq import FAQEntry, FAQMatcher, choose_threshold, load_course_faq, threshold_table


def test_course_faq_is_consistent():
    entries, users = load_course_faq()
    assert len(entries) == 24 and {e.domain for e in entries} == {"banking", "travel", "it", "health"}
    ids = {e.id for e in entries}
    assert set(users["target"].dropna()) <= ids
    assert users["target"].isna().sum() >= 10 and set(users["lang"]) == {"en", "it"}
    faq_questions = {q for e in entries for q in e.questions}
    assert not faq_questions & set(users["text"])  # held out: never the FAQ's own wording


def test_threshold_table_counts_by_hand():
    scores = [0.9, 0.8, 0.6, 0.4]
    predicted = ["a", "b", "a", "b"]
    targets = ["a", "a", None, float("nan")]
    t = threshold_table(scores, predicted, targets, [0.5, 0.7, 0.95]).set_index("threshold")
    assert t.loc[0.7, "precision"] == 0.5 and t.loc[0.7, "recall"] == 0.5 and t.loc[0.7, "oos_refused"] == 1.0
    assert t.loc[0.7, "handled"] == 0.75 and t.loc[0.5, "handled"] == 0.5
    assert t.loc[0.95, "refusal_rate"] == 1.0 and t.loc[0.95, "precision"] == 1.0
    assert choose_threshold(t.reset_index()) == 0.7
    with pytest.raises(ValueError):
        choose_threshold(t.reset_index().iloc[:1], min_precision=0.99)


def test_matcher_answers_and_refuses(minilm):
    entries = [FAQEntry("pw", "it", ("How do I reset my password?",), "Use the link."),
               FAQEntry("bike", "travel", ("Can I bring a bicycle on the train?",), "Yes.")]
    m = FAQMatcher(minilm, entries, threshold=0.5)
    hit = m.match("I forgot my password")
    assert hit.entry.id == "pw" and hit.entry.domain == "it"
    assert [a[0] for a in hit.alternatives] == ["bike"] and hit.alternatives[0][1] < hit.score
    assert m.match("I forgot my password", k=1).alternatives == ()
    far = m.match("What is the capital of Peru?")
    assert far.refused and far.score < 0.5 and far.nearest_id in {"pw", "bike"}
    ids, scores = m.nearest(["bike on a train", "password reset"])
    assert ids == ["bike", "pw"] and np.all(scores > 0.5)
    for bad, err in [("", ValueError), (None, TypeError)]:
        with pytest.raises(err):
            m.match(bad)
    with pytest.raises(ValueError):
        FAQMatcher(minilm, [], 0.5)
    with pytest.raises(ValueError, match="unique"):
        FAQMatcher(minilm, entries + entries[:1], 0.5)
