"""``python -m l2l_lib {list,recipes,run,build,networks,train-all}``: see :mod:`l2l_lib.cli`."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
