"""``python -m model.baseline INPUT BASELINE [mode]``: kept as the documented entry point; the code
is :mod:`model.app.baseline`."""

from model.app.baseline import main

if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
