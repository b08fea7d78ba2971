import pytest

from semsim import __main__ as cli
from semsim import doctor


def test_doctor_lists_models_and_data(capsys, offline):
    code = cli.main(["doctor"])
    out = capsys.readouterr().out
    assert "all-MiniLM-L6-v2" in out and "present" in out and "MB" in out
    assert "bert-base-uncased" in out and "missing" in out
    assert "STS-B test" in out and "Wikipedia corpus" in out
    assert code in (0, 1)


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


def test_cli_needs_a_command():
    with pytest.raises(SystemExit):
        cli.main([])
