"""The course's own tools: exercise checkers, quizzes, measuring, the doctor, plots, synthetic data."""
