"""Support code of the notebook series: exercise checks, hidden solutions, an environment check.

    from mspl_lite.course import check_exercise, show_solution, environment_check
    check_exercise("3.1", my_script)     # Passed, or Not yet with a hint that says what to fix
    show_solution("3.1")                 # collapsed until clicked
    environment_check()                  # what to fix before the series works
    self_check("5.a")                    # a "predict the trace" question, answered in place
    progress()                           # the exercises and self-checks passed, across the series

The notebooks hold the story; this package holds the machinery (one module per idea):

    messages.py              the course's Lync-style SIP messages
    feedback.py, harness.py  a check's verdict; running learners' answers safely
    *_exercises.py           the checks: chain (00, 02), sip (01), first_app (03), language (04),
                             routing (05, 06), answering (07), debugging (08), managed (09)
    capstone.py              the workshop capstone's battery of cases (10)
    lab_apps.py              manifests built in memory for learners' scripts
    variants.py              course messages with one field changed
    snippets.py              try_script: run a few lines of MSPL on a course message
    exercises.py             the registry and check_exercise
    solutions.py             the solutions and show_solution
    self_check.py            the self-checks of notebooks 01-10 and the final quiz
    progress.py              progress(): what a learner passed, kept outside the repository
    environment.py           environment_check
    widgets.py               the small widgets of notebooks 01, 03 and 04
    workshop_widgets.py      the widgets of notebooks 08, 09 and 10
"""
from .exercises import EXERCISES, Exercise, check_exercise
from .feedback import Feedback
from .messages import MESSAGE_NAMES, course_message, message_text
from .snippets import try_script
from .progress import progress
from .self_check import self_check
from .solutions import SOLUTIONS, Solution, show_solution

__all__ = [
    "check_exercise", "show_solution", "environment_check", "Feedback", "Solution", "Exercise",
    "EXERCISES", "SOLUTIONS", "course_message", "message_text", "MESSAGE_NAMES", "try_script", "self_check",
    "progress",
]


def environment_check():
    """Check Python, mspl_lite, graphviz-pure and ipywidgets; say exactly what to fix."""
    from .environment import environment_check as check

    return check()
