"""`python -m putuo_xl …`: the same as the `putuo-xl` command."""
from putuo_xl.cli.commands import console_main

console_main()
