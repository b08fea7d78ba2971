"""semsim.course.measure: throughput, memory readings, and the isolated-process profile."""
import subprocess
import sys

import pytest

from semsim.course import measure

from conftest import FakeEncoder


def test_throughput_counts_sentences_per_second():
    model = FakeEncoder()
    rate = measure.throughput(model, [f"text {i}" for i in range(100)], batch_size=10, repeats=2)
    assert rate > 0 and model.calls >= 3  # a warm-up and two timed runs


def run_in_fresh_python(code: str) -> str:
    """Run ``code`` in a new Python process; fail the test with its stderr if it fails; return its stdout."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_memory_readings_are_plausible():
    # In a fresh process: in this one, earlier tests leave freed but still-resident heap pages
    # that a new block may reuse, so the reading need not grow (CI saw exactly that).
    run_in_fresh_python(
        "import numpy as np; from semsim.course import measure\n"
        "now, peak = measure.rss_mb(), measure.peak_rss_mb()\n"
        "assert 10 < now <= peak * 1.05, (now, peak)\n"
        "block = np.ones(50_000_000 // 8)  # 50 MB, touched\n"
        "after = measure.rss_mb()\n"
        "assert after > now + 30 and measure.peak_rss_mb() >= after * 0.95, (now, after)\n"
    )


def test_peak_memory_of_a_child_is_its_own():
    # A small process started by a large one must not report the large one's size: Linux
    # carries getrusage's ru_maxrss over fork and exec (notebook 04's E5 profile showed the
    # kernel's ~550 MB instead of its own ~210 MB).
    out = run_in_fresh_python(
        "import subprocess, sys; import numpy as np\n"
        "block = np.ones(400_000_000 // 8)  # 400 MB, touched, held while the child runs\n"
        "child = 'from semsim.course import measure; print(measure.peak_rss_mb())'\n"
        "out = subprocess.run([sys.executable, '-c', child], capture_output=True, text=True, check=True)\n"
        "print(out.stdout.strip(), block.sum() > 0)\n"
    )
    child_peak = float(out.split()[0])
    assert 5 < child_peak < 250, child_peak   # numpy and semsim.course.measure: tens of MB, not the parent's 400


def test_profile_model_in_this_process(minilm):
    texts = ["A short sentence.", "Another one, a little longer than the first."] * 8
    out = measure.profile_model("all-MiniLM-L6-v2", texts, batch_sizes=(1, 8), sts_rows=list(range(30)))
    assert out["model"] == "all-MiniLM-L6-v2" and out["dim"] == 384
    assert 20 < out["params_m"] < 25 and out["disk_mb"] > 80  # 22.7 M parameters, a 90 MB folder
    assert out["sent_per_s_bs8"] > 0 and -1 <= out["sts_spearman"] <= 1
    assert out["sts_ci_lo"] <= out["sts_spearman"] <= out["sts_ci_hi"]


def test_profile_isolated_reports_the_child_failure():
    with pytest.raises(RuntimeError, match="measuring someone/unknown-model failed"):
        measure.profile_isolated("someone/unknown-model", ["x"], batch_sizes=(1,), timeout=120)
