"""The `putuo-xl` command: thin adapters over the library, one library call per command."""
from putuo_xl.cli.commands import console_main, main, quick_exit  # noqa: F401
