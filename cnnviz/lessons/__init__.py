"""Practice: exercises of the lecture's arithmetic, generated from (kind, level, seed), checked at once.

`exercises` makes an exercise and its truth (the project's Keras-exact arithmetic and step functions),
`checking` compares an answer with it and says what went wrong, `solutions` writes the worked solution
with the exercise's numbers, `progress` keeps a session's score and streak and picks the next level.
Never imports streamlit (cnnviz.ui.practice shows all of this).
"""
