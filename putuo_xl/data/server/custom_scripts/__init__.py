# xlwings Server loads the ribbon scripts from this package: the same actions as the
# desktop add-in's buttons (putuo_xl.excel.actions), one script per button.
from putuo_xl.excel.server_scripts import *  # noqa: F401,F403
