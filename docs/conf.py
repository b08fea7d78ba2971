"""Sphinx configuration of the course website (built by `make book`, see docs/build.py).

The notebooks are rendered from their committed outputs (no re-execution). Every script,
style sheet and font is served from the site itself: MathJax is a local copy, and saved
widget state is stripped before the build, so the site works with no network.
"""
import os

project = "semsim: semantic similarity and sentence embeddings, measured"
author = "the semsim authors"
copyright = "2026, the semsim authors. Code MIT; text and figures CC BY 4.0"

extensions = ["myst_nb"]
nb_execution_mode = "off"            # render the committed outputs
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "html_image"]
suppress_warnings = ["mystnb.unknown_mime_type"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

html_theme = "sphinx_book_theme"
html_title = "semsim course"
html_static_path = ["_static"]
mathjax_path = "mathjax/tex-chtml.js"   # a local copy, copied in by docs/build.py
mathjax3_config = {"options": {"enableMenu": False}}  # the menu's accessibility tools load code from a CDN
html_last_updated_fmt = None

REPO_URL = os.environ.get("SEMSIM_REPO_URL", "https://github.com/semsim-course/semsim")
html_theme_options = {
    "repository_url": REPO_URL,
    "repository_branch": os.environ.get("SEMSIM_REPO_BRANCH", "main"),
    "path_to_docs": ".",
    "use_download_button": True,
    "use_repository_button": True,
    "launch_buttons": {"binderhub_url": "https://mybinder.org", "notebook_interface": "jupyterlab"},
    "show_toc_level": 2,
    "extra_footer": (
        "<p>Code: <a href='https://opensource.org/license/mit'>MIT</a>. Text, figures, exercises and quizzes: "
        "<a href='https://creativecommons.org/licenses/by/4.0/'>CC BY 4.0</a>, the semsim authors. Data keep their "
        "own licences: STS Benchmark scores CC BY-SA 4.0 (sentences under their sources' terms), the Wikipedia "
        "sentences CC BY-SA.</p>"),
}
