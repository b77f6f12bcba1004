"""``fastnn.onnx``: the name torch programs import for ONNX export, on a library that has no
ONNX writer.

Programs such as a language-model trainer import ``torch.onnx`` at the top and only call
``export`` behind a command-line flag. The import must work so that the rest of the program
runs; ``export`` itself refuses with a clear error instead of writing a file that is not ONNX.
"""

__all__ = ["export", "is_in_onnx_export"]


def export(model, args=(), f=None, *pargs, **kwargs):
    """Refuses: fastnn cannot write ONNX graphs."""
    raise RuntimeError(
        "fastnn.onnx.export: fastnn has no ONNX exporter; save the weights with "
        "fastnn.save(model.state_dict(), path) and load them into torch to export"
    )


def is_in_onnx_export():
    """False: no export is ever under way (modules ask to pick export-friendly code)."""
    return False
