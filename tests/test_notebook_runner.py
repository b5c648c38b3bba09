"""The grader's and benchmarks' notebook runner polls the kernel channels in short slices, also when it
is used through nbclient's synchronous `setup_kernel()` (a lost wake-up then costs a second, not the
whole cell timeout)."""
import nbformat

from neuronlab.grading import NotebookRunner


def test_setup_kernel_gives_the_polling_channels_and_runs_a_cell():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
    runner = NotebookRunner(notebook, timeout=60, kernel_name="python3")
    with runner.setup_kernel():
        assert runner.kc.shell_channel.get_msg.__name__ == "get_msg_in_slices"
        assert runner.kc.iopub_channel.get_msg.__name__ == "get_msg_in_slices"
        runner.execute_cell(notebook.cells[0], 0)
    assert notebook.cells[0].outputs[0]["text"] == "42\n"
