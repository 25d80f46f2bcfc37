"""The course's JupyterLab page settings: Chinese drawn with the course's CJK font.

Read by every JupyterLab of the course (``make lab`` and the browser tests put this folder on
``JUPYTER_CONFIG_PATH``; the learner install puts it in the environment's ``etc/jupyter/``).
``custom/custom.css`` gives CJK characters the course's font (``course_lib/fonts/``), which
``/custom/`` serves from the font's own folder, so a machine without a Chinese font draws no
boxes and the font is stored once. The user's own ``custom/`` folder is still searched, after
the course's.
"""

import importlib.util
from pathlib import Path

from jupyter_core.paths import jupyter_config_dir

COURSE_CUSTOM = Path(__file__).resolve().parent / "custom"  # custom.css
FONTS = Path(importlib.util.find_spec("course_lib").origin).parent / "fonts"  # not imported

c = get_config()  # noqa: F821 — provided by traitlets when this file is loaded
c.LabApp.custom_css = True
c.ServerApp.tornado_settings = {
    "static_custom_path": [str(COURSE_CUSTOM), str(FONTS),
                           str(Path(jupyter_config_dir()) / "custom")],
}
