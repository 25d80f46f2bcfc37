"""Sphinx settings of the course website (``make book``; ``book/build.py`` lays out the source
folder and passes the cache's path). MyST-NB reads the lessons' notebooks and executes them,
the book theme lays the pages out, and MathJax comes from the site itself, never a network."""

project = "Attention, step by step"
author = "the course's authors"
copyright = "the course's authors, MIT licence"

extensions = ["myst_nb"]
exclude_patterns = ["student_notebooks/**", "**/.ipynb_checkpoints"]
myst_enable_extensions = ["dollarmath", "amsmath"]
suppress_warnings = ["myst.header"]  # the lessons start their exercises at ### under a ## part

# Every lesson executed once, then cached by its code; each in a temporary folder of its own
# (build.py executes them ahead, several at a time, and gives the cell time limit).
nb_execution_mode = "cache"
nb_execution_in_temp = True
nb_execution_raise_on_error = True  # a cell that fails, unless tagged raises-exception
nb_merge_streams = True
# Progress bars as text: their widgets would need JavaScript from a CDN.
nb_ipywidgets_js = {}
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None)]

# Formulas from the site's own MathJax (book/build.py copies it into _static/mathjax/).
mathjax_path = "mathjax/tex-svg-full.js"

html_theme = "sphinx_book_theme"
html_title = project
html_static_path = ["_static"]  # MathJax and the CJK font, written there by book/build.py
html_css_files = ["cjk.css"]  # Chinese text in the course's CJK font
html_copy_source = False  # the page sources hold hidden cells: each page links its notebook
html_show_sourcelink = False
html_theme_options = {
    "use_download_button": False,
    "show_toc_level": 2,
    "home_page_in_toc": True,
}
