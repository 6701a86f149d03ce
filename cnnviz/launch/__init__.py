"""Starting the app from outside a browser: the `cnnviz` command (`cli`) and `cnnviz.show` in a notebook
(`notebook`). Neither imports streamlit: they start `streamlit run app.py` in a child process."""
