"""The only Streamlit code outside pages/: shared sidebar, session-state keys, cache wrappers."""
