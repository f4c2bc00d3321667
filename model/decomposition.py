"""``mpiexec -n N python -m model.decomposition INPUT ...``: kept as the documented entry point; the
code is :mod:`model.stochastic.decomposition`."""

from model.stochastic.decomposition import main

if __name__ == "__main__":
    raise SystemExit(main())
