"""Sphinx configuration of the course website (built by `make book`, see docs/build.py).

The notebooks are rendered from their committed outputs (no re-execution). Every script,
style sheet and font is served from the site itself: MathJax is a local copy (pip package
django-static-mathjax, copied in by docs/build.py), and saved widget state is stripped before
the build, so the site works with no network.
"""
import os
import re

project = "semsim: semantic similarity and sentence embeddings, measured"
author = "the semsim authors"
copyright = "2026, the semsim authors. Code MIT; text and figures CC BY 4.0"

extensions = ["myst_nb", "sphinx_copybutton", "sphinx.ext.autodoc"]
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"undoc-members": False}
nb_execution_mode = "off"            # render the committed outputs
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "html_image"]
suppress_warnings = ["mystnb.unknown_mime_type"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

# Copy buttons on code (cell inputs and code in solutions), not on outputs.
copybutton_selector = "div:not(.output) > div.highlight > pre"

html_theme = "sphinx_book_theme"
html_title = "semsim course"
html_static_path = ["_static"]
html_favicon = "_static/favicon.svg"   # without one, browsers ask for /favicon.ico and log a 404
html_css_files = ["semsim.css"]
templates_path = ["_templates"]
mathjax_path = "mathjax/tex-chtml.js"   # a local copy, copied in by docs/build.py
mathjax3_config = {"options": {"enableMenu": False}}  # the menu's accessibility tools load code from a CDN
html_last_updated_fmt = None

REPO_URL = os.environ.get("SEMSIM_REPO_URL", "https://github.com/semsim-course/semsim")
BRANCH = os.environ.get("SEMSIM_REPO_BRANCH", "main")
# "Report a problem / ask a question" at the end of every page: GitHub and GitLab take a title in the address.
if re.match(r"https://github\.com/", REPO_URL):
    ISSUE_URL, ISSUE_TITLE = f"{REPO_URL}/issues/new", "title"
elif "gitlab" in REPO_URL:
    ISSUE_URL, ISSUE_TITLE = f"{REPO_URL}/-/issues/new", "issue[title]"
else:
    ISSUE_URL, ISSUE_TITLE = f"{REPO_URL}/issues", ""

html_context = {
    "default_mode": "auto",          # the theme logs a console error on a first visit without one
    "semsim_issue_url": ISSUE_URL,
    "semsim_issue_title": ISSUE_TITLE,
}
html_theme_options = {
    "repository_url": REPO_URL,
    "repository_branch": BRANCH,
    "path_to_docs": ".",
    "use_download_button": True,
    "use_repository_button": True,
    "use_issues_button": True,
    "launch_buttons": {"binderhub_url": "https://mybinder.org", "notebook_interface": "jupyterlab"},
    "show_toc_level": 2,
    # sphinx-book-theme 1.4.0 with pydata-sphinx-theme 0.20.0 draws the sidebar and contents buttons twice
    # and wires up the hidden copies (pydata-sphinx-theme #2451): without the persistent navbar items,
    # the visible buttons work on phones and desktops.
    "navbar_persistent": [],
    "article_footer_items": ["report-a-problem.html"],
    "extra_footer": (
        "<p>Code: <a href='https://opensource.org/license/mit'>MIT</a>. Text, figures, exercises and quizzes: "
        "<a href='https://creativecommons.org/licenses/by/4.0/'>CC BY 4.0</a>, the semsim authors. Outputs that show "
        "sentences of the data sets are under the data's licences, not CC BY: STS Benchmark scores CC BY-SA 4.0 (its "
        "sentences under their sources' terms), the Wikipedia sentences CC BY-SA 3.0, SQuAD and SQuAD-it CC BY-SA 4.0 "
        "(sources and licences: data/SOURCES.md in the repository). Models: all-MiniLM-L6-v2 and all-mpnet-base-v2 "
        "Apache-2.0, multilingual-e5-small MIT. MathJax, served by this site: Apache-2.0 (its licence is in "
        "_static/mathjax/LICENSE).</p>"),
}


# Each line of highlighted code in its own span, so that a long line of a lesson's code wraps with a
# hanging indent (continuing under its own start, as in an editor) instead of hiding its trailing
# comment; docs/_static/semsim.css lays the spans out. The text and its line breaks stay as they were.
def _line_spans(formatter_class):
    class LineSpans(formatter_class):
        def wrap(self, source):
            def lines():
                for is_code, line in source:
                    if not is_code:
                        yield is_code, line
                        continue
                    text = line.rstrip("\n")
                    plain = re.sub(r"<[^>]*>", "", text)
                    indent = len(plain) - len(plain.lstrip(" "))
                    style = f' style="--indent:{indent}ch"' if indent else ""
                    yield is_code, f'<span class="line"{style}>{text}</span>' + line[len(text):]
            return super().wrap(lines())
    return LineSpans


def _use_line_spans(app):
    if getattr(app.builder, "highlighter", None) is not None and app.builder.format == "html":
        app.builder.highlighter.formatter = _line_spans(app.builder.highlighter.formatter)


def setup(app):
    app.connect("builder-inited", _use_line_spans)
