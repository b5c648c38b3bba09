"""The headless main job writes its figure and metrics; bad arguments give a clear error."""
import json
import subprocess
import sys


def run(*args):
    return subprocess.run([sys.executable, "-m", "neuronlab", "reproduce", *args], capture_output=True, text=True)


def test_reproduce_writes_figure_and_metrics(tmp_path):
    result = run("--out", str(tmp_path), "--steps", "600")
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    for key in ["loss_half_step", "final_loss", "n_clusters", "clustered_neurons", "spearman_early",
                "spearman_init", "seconds"]:
        assert key in metrics
    assert 150 <= metrics["loss_half_step"] <= 600
    assert metrics["final_loss"] < metrics["initial_loss"] / 2
    assert (tmp_path / "figure1.png").stat().st_size > 50_000


def test_reproduce_refuses_an_unknown_class(tmp_path):
    result = run("--out", str(tmp_path), "--classes", "cat", "zebra")
    assert result.returncode == 2
    assert "zebra" in result.stderr and "Traceback" not in result.stderr


def test_reproduce_reports_divergence_without_a_traceback(tmp_path):
    result = run("--out", str(tmp_path), "--lr", "500", "--steps", "50", "--width", "10")
    assert result.returncode == 2
    assert "diverged" in result.stderr and "Traceback" not in result.stderr


def test_reproduce_refuses_an_output_path_that_is_a_file(tmp_path):
    target = tmp_path / "figure1.png"
    target.write_text("not a folder")
    result = run("--out", str(target), "--steps", "5", "--width", "3")
    assert result.returncode == 2
    assert "is a file" in result.stderr and "folder" in result.stderr and "Traceback" not in result.stderr


def test_reproduce_refuses_a_thread_count_below_one(tmp_path):
    result = run("--out", str(tmp_path), "--threads", "0", "--steps", "5", "--width", "3")
    assert result.returncode == 2
    assert "threads must be a whole number ≥ 1" in result.stderr and "Traceback" not in result.stderr


def test_reproduce_reports_its_training_and_drawing_time(tmp_path):
    result = run("--out", str(tmp_path), "--steps", "20", "--width", "5")
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert 0 < metrics["training_seconds"] < metrics["seconds"] and 0 < metrics["drawing_seconds"] < metrics["seconds"]
