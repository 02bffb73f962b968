"""``python -m l2l_lib {list,run,build}``: see :mod:`l2l_lib.cli`."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
