"""`python -m putuo_xl …`: the same as the `putuo-xl` command."""
from .cli import console_main

console_main()
