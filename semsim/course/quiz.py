"""Self-check quizzes that score, in JupyterLab and on the course website alike.

A notebook's last code cell calls ``quiz([...])`` with its questions; the cell's output is one
self-contained piece of HTML (style, questions and a short script; nothing loaded from
anywhere). JupyterLab runs the script when the cell runs; the website shows the saved output
and runs it too. The learner picks one option per question and presses *Check my answers*:
every question is marked right or wrong, every option shows why, the score is counted, and
the browser remembers the last answers. Where scripts do not run (a notebook opened but not
yet trusted), the output falls back to one folded explanation per option. For example::

    from semsim.course.quiz import quiz
    quiz([
        {"question": "Which measure ignores the length of the vectors?",
         "options": [("the dot product", "It grows with length."),
                     ("cosine similarity", "It compares directions only.")],
         "answer": 1},          # the position of the right option, from 0
    ])
"""
from __future__ import annotations

import hashlib
import html
import json
import re
from typing import Any, Sequence

__all__ = ["Quiz", "quiz"]

_STYLE = """
.semsim-quiz{border:1px solid rgba(127,127,127,.45);border-radius:6px;padding:.6em 1em;margin:.5em 0;max-width:50em}
.semsim-quiz fieldset{border:0;margin:0 0 .9em;padding:0;min-width:0}
.semsim-quiz legend{font-size:1em;font-weight:600;line-height:1.4;padding:0;margin-bottom:.3em;
  white-space:normal;float:none;width:auto}
.semsim-quiz-option{display:grid;grid-template-columns:auto 1fr;column-gap:.55em;align-items:baseline;
  padding:.25em .4em;margin:.1em 0;border-radius:4px;cursor:pointer;overflow-wrap:anywhere;font-weight:normal}
.semsim-quiz-option input{margin:0}
.semsim-quiz-why{grid-column:2;margin-top:.15em;font-size:.92em;opacity:.9}
.semsim-quiz-option.is-right{background:rgba(40,167,69,.16)}
.semsim-quiz-option.is-wrong{background:rgba(220,53,69,.16)}
.semsim-quiz-verdict{margin:.2em 0 0;font-weight:600}
.semsim-quiz-verdict.is-right{color:#1f8a3b}.semsim-quiz-verdict.is-wrong{color:#c4303d}
.semsim-quiz button{font:inherit;padding:.3em .9em;margin:.2em .6em .2em 0;border-radius:4px;
  border:1px solid rgba(127,127,127,.6);background:transparent;color:inherit;cursor:pointer}
.semsim-quiz button.semsim-quiz-check{background:#2a6fb0;border-color:#2a6fb0;color:#fff}
.semsim-quiz-score{font-weight:600}
.semsim-quiz-static details{margin:.15em 0 .15em 1em}
.semsim-quiz [hidden]{display:none!important}
"""

# Builds the form from the JSON beside it, scores it, and keeps the last answers in localStorage.
_SCRIPT = """
(function () {
  var root = document.currentScript && document.currentScript.parentElement;
  if (!root || root.getAttribute("data-ready")) return;
  root.setAttribute("data-ready", "1");
  var data = JSON.parse(root.querySelector("script.semsim-quiz-data").textContent);
  var key = "semsim-quiz:" + data.id, n = data.questions.length;
  function el(tag, cls, html) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (html) e.innerHTML = html;
    return e;
  }
  var form = el("form", "semsim-quiz-form"), sets = [];
  data.questions.forEach(function (q, i) {
    var fs = el("fieldset");
    fs.appendChild(el("legend", "", (i + 1) + ". " + q.question));
    q.options.forEach(function (opt, j) {
      var label = el("label", "semsim-quiz-option"), input = el("input");
      input.type = "radio"; input.name = data.id + "-" + i; input.value = String(j);
      label.appendChild(input);
      label.appendChild(el("span", "", opt.text));
      var why = el("span", "semsim-quiz-why", opt.why);
      why.hidden = true;
      label.appendChild(why);
      fs.appendChild(label);
    });
    var verdict = el("p", "semsim-quiz-verdict");
    verdict.setAttribute("aria-live", "polite");
    fs.appendChild(verdict);
    form.appendChild(fs);
    sets.push(fs);
  });
  var check = el("button", "semsim-quiz-check", "Check my answers");
  var again = el("button", "semsim-quiz-reset", "Try again");
  check.type = "submit"; again.type = "button";
  var score = el("span", "semsim-quiz-score");
  score.setAttribute("aria-live", "polite");
  var bar = el("div", "semsim-quiz-bar");
  bar.appendChild(check); bar.appendChild(again); bar.appendChild(score);
  form.appendChild(bar);
  root.querySelector(".semsim-quiz-static").hidden = true;
  root.appendChild(form);

  function picks() {
    return sets.map(function (fs) {
      var c = fs.querySelector("input:checked");
      return c ? Number(c.value) : null;
    });
  }
  function clear() {
    sets.forEach(function (fs) {
      fs.querySelectorAll(".semsim-quiz-option").forEach(function (l) { l.classList.remove("is-right", "is-wrong"); });
      fs.querySelectorAll(".semsim-quiz-why").forEach(function (w) { w.hidden = true; });
      var v = fs.querySelector(".semsim-quiz-verdict");
      v.textContent = ""; v.className = "semsim-quiz-verdict";
    });
    score.textContent = "";
  }
  function mark(chosen, prefix) {
    clear();
    var right = 0;
    sets.forEach(function (fs, i) {
      var answer = data.questions[i].answer, labels = fs.querySelectorAll(".semsim-quiz-option");
      labels.forEach(function (l, j) {
        l.querySelector(".semsim-quiz-why").hidden = false;
        if (j === answer) l.classList.add("is-right");
        else if (j === chosen[i]) l.classList.add("is-wrong");
      });
      var v = fs.querySelector(".semsim-quiz-verdict");
      if (chosen[i] === answer) { right++; v.textContent = "\\u2714 Right."; v.classList.add("is-right"); }
      else {
        v.textContent = chosen[i] === null ? "\\u2718 Not answered." : "\\u2718 Not quite.";
        v.classList.add("is-wrong");
      }
    });
    score.textContent = prefix + right + " of " + n + " right";
    root.setAttribute("data-score", String(right));
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var chosen = picks();
    mark(chosen, "Score: ");
    try { localStorage.setItem(key, JSON.stringify(chosen)); } catch (e) { /* storage off: nothing kept */ }
  });
  again.addEventListener("click", function () {
    form.reset(); clear(); root.removeAttribute("data-score");
    try { localStorage.removeItem(key); } catch (e) { /* nothing kept */ }
  });
  var saved = null;
  try { saved = JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { saved = null; }
  if (Array.isArray(saved) && saved.length === n) {
    saved.forEach(function (j, i) {
      var input = sets[i].querySelectorAll("input")[j];
      if (input) input.checked = true;
    });
    mark(saved, "Your last score: ");
  }
})();
"""


def _inline(text: str) -> str:
    """Escape text and render the little markdown a quiz uses: `code`, **bold**, *italic*."""
    out = html.escape(str(text), quote=False)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    return re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", out)


def _check(questions: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    if not questions:
        raise ValueError("a quiz needs at least one question")
    checked = []
    for i, q in enumerate(questions, 1):
        missing = {"question", "options", "answer"} - set(q)
        if missing:
            raise ValueError(f"question {i} lacks {', '.join(sorted(missing))}")
        options = list(q["options"])
        if len(options) < 2:
            raise ValueError(f"question {i} needs at least two options")
        for j, opt in enumerate(options):
            if len(opt) != 2 or not str(opt[0]).strip() or not str(opt[1]).strip():
                raise ValueError(f"question {i}, option {j}: give (option text, why it is right or wrong)")
        answer = q["answer"]
        if not isinstance(answer, int) or not 0 <= answer < len(options):
            raise ValueError(f"question {i}: answer must be an option's position, 0 to {len(options) - 1}")
        checked.append({"question": str(q["question"]), "options": [(str(t), str(w)) for t, w in options],
                        "answer": answer})
    return checked


class Quiz:
    """A scored multiple-choice quiz; Jupyter and myst-nb show it through ``_repr_html_``."""

    def __init__(self, questions: Sequence[dict[str, Any]]):
        self.questions = _check(questions)
        # A stable id (the same questions give the same id), so saved outputs do not change on re-runs
        # and the browser finds the learner's last answers again.
        digest = hashlib.sha1(json.dumps(self.questions, sort_keys=True).encode()).hexdigest()[:10]
        self.id = f"semsim-quiz-{digest}"

    def __repr__(self) -> str:
        lines = [f"Quiz with {len(self.questions)} questions (run the cell in JupyterLab, or read it on the website)."]
        for i, q in enumerate(self.questions, 1):
            lines.append(f"{i}. {q['question']}")
            lines += [f"   {'abcdefgh'[j]}) {text}" for j, (text, _) in enumerate(q["options"])]
        return "\n".join(lines)

    def _static_html(self) -> str:
        """What a reader sees where scripts do not run: each option folded with its explanation."""
        parts = ['<div class="semsim-quiz-static">']
        for i, q in enumerate(self.questions, 1):
            parts.append(f"<p><strong>{i}. {_inline(q['question'])}</strong></p>")
            for j, (text, why) in enumerate(q["options"]):
                verdict = "\u2714 Right." if j == q["answer"] else "\u2718 Not quite."
                parts.append(f"<details><summary>{'abcdefgh'[j]}) {_inline(text)}</summary>"
                             f"<p>{verdict} {_inline(why)}</p></details>")
        parts.append("</div>")
        return "".join(parts)

    def _repr_html_(self) -> str:
        data = {"id": self.id, "questions": [
            {"question": _inline(q["question"]), "answer": q["answer"],
             "options": [{"text": _inline(t), "why": _inline(w)} for t, w in q["options"]]}
            for q in self.questions]}
        payload = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")   # no "</script>" inside
        return (f'<div class="semsim-quiz" id="{self.id}"><style>{_STYLE.strip()}</style>'
                f"{self._static_html()}"
                f'<script type="application/json" class="semsim-quiz-data">{payload}</script>'
                f"<script>{_SCRIPT.strip()}</script></div>")


def quiz(questions: Sequence[dict[str, Any]]) -> Quiz:
    """A quiz to show as a cell's result. Each question: {"question": str, "options": [(text, why), ...],
    "answer": position of the right option, from 0}. Every option says why it is right or wrong."""
    return Quiz(questions)
