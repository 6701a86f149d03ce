# cnnviz: one replica. Behind a balancer with sticky sessions (deploy/, compose.yaml, deploy/k8s/).
# The base is pinned to a Python patch release and Debian release; pin its digest too in production.
FROM python:3.11.7-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STREAMLIT_SERVER_ADDRESS=0.0.0.0 \
    STREAMLIT_SERVER_PORT=8501 \
    STREAMLIT_SERVER_HEADLESS=true \
    TF_CPP_MIN_LOG_LEVEL=2

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin cnnviz
WORKDIR /app

# `make run`'s two steps: install the pinned requirements, then `streamlit run app.py`.
COPY requirements.txt .
RUN python -m pip install --no-cache-dir -r requirements.txt

COPY --chown=10001:10001 app.py ./
COPY --chown=10001:10001 .streamlit ./.streamlit
COPY --chown=10001:10001 cnnviz ./cnnviz
COPY --chown=10001:10001 pages ./pages

USER 10001
EXPOSE 8501
# Streamlit reads the address and port from STREAMLIT_SERVER_ADDRESS / STREAMLIT_SERVER_PORT.
HEALTHCHECK --interval=10s --timeout=3s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/_stcore/health' % os.environ.get('STREAMLIT_SERVER_PORT', '8501'), timeout=2)"]
CMD ["python", "-m", "streamlit", "run", "app.py"]
