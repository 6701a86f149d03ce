"""Figure builders: plotly figures and PNG image grids from numpy arrays. They never show anything."""
