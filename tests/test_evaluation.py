"""Evaluation: span F1 as SemEval-2021 Task 5 scores it, metrics, written sets, identity terms, the CLI."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from moderation.model import evalsets, evaluation
from moderation.model.classifier import Classifier, Evidence, Scores
from moderation.model.datasets import CIVIL_SPAN_FILES, SOURCE_FILES, SPAM_SOURCES
from moderation.policy import Policy
from moderation_cli import main
from tests.public_data import DATA_DIR

ROWS_PER_FILE = 120


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.load()


# -- span F1 ---------------------------------------------------------------------------------------


def test_character_f1_follows_the_task_definition() -> None:
    assert evaluation.character_f1([], []) == 1.0
    assert evaluation.character_f1([1, 2], []) == 0.0
    assert evaluation.character_f1([], [1, 2]) == 0.0
    assert evaluation.character_f1([1, 2], [3, 4]) == 0.0
    # 2 of 4 predicted in gold (P = 1/2), 2 of 3 gold found (R = 2/3): F1 = 2PR / (P + R) = 4/7.
    assert evaluation.character_f1([1, 2, 3, 4], [3, 4, 5]) == pytest.approx(4 / 7)
    assert evaluation.mean_f1([set(), {1}], [set(), {1, 2}]) == pytest.approx(round((1 + 2 / 3) / 2, 4))


def test_predicted_spans_filter_by_weight_and_mark_every_occurrence() -> None:
    text = "idiot, you idiot and a fool"
    scores = Scores(0.0, 0.9, (), (Evidence(0, 5, "idiot", 3.0), Evidence(23, 27, "fool", 1.0),
                                   Evidence(21, 22, "a", 0.1)))
    assert evaluation.predicted_spans(scores, 2.0) == set(range(0, 5))
    assert evaluation.predicted_spans(scores, 2.0, text=text) == set(range(0, 5)) | set(range(11, 16))
    assert evaluation.predicted_spans(scores, 0.0, min_share=0.3) == set(range(0, 5)) | set(range(23, 27))
    assert evaluation.predicted_spans(scores, 0.0, min_abuse=0.95) == set()


# -- metrics ---------------------------------------------------------------------------------------


def test_threshold_metrics_on_a_known_array() -> None:
    y = np.array([0, 0, 0, 1, 1])
    p = np.array([0.1, 0.6, 0.3, 0.8, 0.4])
    metrics = evaluation.threshold_metrics(y, p, 0.5)
    # Ranks: the positives 0.8 and 0.4 beat 3 and 2 of the 3 negatives: AUC 5/6.
    assert metrics["roc_auc"] == pytest.approx(0.8333, abs=1e-4)
    assert metrics["pr_auc"] == pytest.approx(round((1 + 2 / 3) / 2, 4))  # precision 1 at 0.8, 2/3 at 0.4
    assert (metrics["precision"], metrics["recall"], metrics["fpr"]) == (0.5, 0.5, pytest.approx(0.3333))
    one_class = evaluation.threshold_metrics(np.zeros(3), np.array([0.1, 0.7, 0.2]), 0.5)
    assert one_class["roc_auc"] is None and one_class["precision"] is None and one_class["recall"] is None
    assert one_class["fpr"] == pytest.approx(0.3333)


# -- written sets and identity terms ---------------------------------------------------------------


def test_written_sets_are_large_and_distinct() -> None:
    sets = (evalsets.NEWS_COMMENTS, evalsets.ABUSIVE_COMMENTS, evalsets.SPAM_COMMENTS)
    assert [len(s) >= n for s, n in zip(sets, (200, 150, 100), strict=True)] == [True] * 3
    assert sum(len(set(s)) for s in sets) == len(set().union(*sets))
    assert len(evalsets.IDENTITY_TERMS) >= 40 and len(evalsets.NEUTRAL_TEMPLATES) >= 15
    assert len(evalsets.ABUSIVE_TEMPLATES) >= 10
    assert evalsets.fill("As a {} person, I agree.", "atheist") == "As an atheist person, I agree."
    assert evalsets.fill("{} people deserve rights.", "muslim") == "Muslim people deserve rights."
    assert evalsets.fill("As a {} person.", "european") == "As a European person."


def test_written_set_report_on_the_shipped_model(classifier: Classifier) -> None:
    report = evaluation.written_set_report(classifier, Policy(), None)
    abuse, spam, hold = report["abuse"]["ours"], report["spam"]["ours"], report["news_hold"]
    assert abuse["roc_auc"] > 0.75 and spam["roc_auc"] > 0.75
    assert set(abuse["hold"]) >= {"precision", "recall", "fpr", "threshold"} and abuse["reject"]["threshold"] == 0.98
    assert hold["n"] == len(evalsets.NEWS_COMMENTS) and hold["held"] == len(hold["held_comments"])
    assert hold["hold_rate"] < 0.2
    assert all(item["status"] != "published" and item["reasons"] for item in hold["held_comments"])
    assert report["reference"] == "not run" and evaluation.REFERENCE_NAME not in report["abuse"]


def test_identity_fairness_on_the_shipped_model(classifier: Classifier) -> None:
    result = evaluation.identity_fairness(classifier, 0.5, None)
    ours = result["ours"]
    assert set(ours["terms"]) == set(evalsets.IDENTITY_TERMS)
    assert ours["mean_abusive"] > ours["mean_neutral"] and ours["auc"] > 0.7
    assert all(0 <= entry["fpr"] <= 1 and entry["subgroup_auc"] is not None for entry in ours["terms"].values())
    worst = ours["worst_terms"][0]
    assert ours["terms"][worst]["fpr"] == max(entry["fpr"] for entry in ours["terms"].values())


def test_reference_missing_is_reported_not_raised(classifier: Classifier, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "profanity_check", None)  # makes the import fail
    reference = evaluation.ProfanityCheck()
    assert not reference.available
    result = evaluation.identity_fairness(classifier, 0.5, reference)
    assert result["reference"] == evaluation.NOT_INSTALLED and evaluation.REFERENCE_NAME not in result


def test_reference_scores_abuse_only() -> None:
    pytest.importorskip("profanity_check")
    p = evaluation.ProfanityCheck().probabilities(["you are a fucking idiot", "thanks for the article"])
    assert p.shape == (2, 2) and np.isnan(p[:, 0]).all() and p[0, 1] > p[1, 1]


# -- public sets and the command -------------------------------------------------------------------


def _copy_head(source: Path, target: Path, rows: int) -> None:
    """Copy a data file's header and first rows (CSV rows, or lines for the SMS TSV)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.suffix != ".csv":
        with source.open(encoding="utf-8") as handle:
            target.write_text("".join(line for _, line in zip(range(rows), handle, strict=False)), encoding="utf-8")
        return
    with source.open(newline="", encoding="utf-8") as handle, target.open("w", newline="", encoding="utf-8") as out:
        reader, writer = csv.reader(handle), csv.writer(out)
        for _, row in zip(range(rows + 1), reader, strict=False):
            writer.writerow(row)


@pytest.fixture(scope="module")
def small_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The public sets cut to their first rows (the SMS file to more, so it has spam), in the same layout."""
    root = tmp_path_factory.mktemp("data")
    names = {name for files in SOURCE_FILES.values() for name in files} | set(CIVIL_SPAN_FILES)
    for name in names:
        rows = ROWS_PER_FILE * 4 if any(name in SOURCE_FILES[s] for s in SPAM_SOURCES) else ROWS_PER_FILE
        _copy_head(DATA_DIR / name, root / name, rows)
    return root


@pytest.mark.data
def test_evaluate_command_reports_every_part(small_data: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    labelled = tmp_path / "site.csv"
    labelled.write_text('text,abuse\n"You are an idiot",1\n"Thanks for the thorough report",0\n'
                        '"Shut up, moron",yes\n"The council vote is on Tuesday",no\n', encoding="utf-8")
    main(["evaluate", "--data", str(small_data), "--span-sample", "60", "--file", str(labelled), "--json"])
    result = json.loads(capsys.readouterr().out)
    assert {"written", "identity", "cross_source", "spans", "sources", "files"} <= set(result)
    assert set(result["sources"]) >= {"youtube", "sms", "davidson", "stormfront"}
    davidson = result["sources"]["davidson"]["abuse"]["ours"]
    assert {"roc_auc", "pr_auc", "hold", "reject"} <= set(davidson) and davidson["hold"]["threshold"] == 0.5
    assert result["files"]["site.csv"]["abuse"]["ours"]["roc_auc"] is not None
    assert 0 <= result["spans"]["ours"] <= 1 and "lexicon words" in result["spans"]["baselines"]
    assert "davidson" in result["cross_source"]["abuse"]

    report = evaluation.format_report(result)
    for heading in ("## Written sets", "## Identity terms", "## Leave-one-source-out", "## Evidence spans",
                    "## Your files", "## Per public source", "(trained on)"):
        assert heading in report


def test_evaluate_command_without_data_or_reference(capsys: pytest.CaptureFixture[str]) -> None:
    main(["evaluate", "--data", "", "--no-reference"])
    report = capsys.readouterr().out
    assert "## Written sets" in report and "## Identity terms" in report and "## Per public source" not in report
    assert "| abuse | alt-profanity-check | not run |" in report
