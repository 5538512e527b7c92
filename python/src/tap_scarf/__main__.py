"""``python -m tap_scarf``: the same as the ``tap-scarf`` command."""

from tap_scarf import main

main()
