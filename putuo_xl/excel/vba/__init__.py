"""The VBA project of the desktop add-in, written without Excel: MS-OVBA compression (ovba),
the compound file (cfb) and the project's streams (project)."""
