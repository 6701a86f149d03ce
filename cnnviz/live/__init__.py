"""The live view: a camera's (or a video file's) frames through the model at video rate.

- `frames`: a frame's bytes as they arrive (checked before decoding) and the wire format of a frame and
  its result;
- `latest`: one session's frame slot (the latest frame wins, one in flight);
- `scheduler`: one worker per process serving every live session in turn, frames of sessions that watch
  the same model and layer batched into one forward pass;
- `pipeline`: the compiled pass of one (model, layer, Grad-CAM) for a batch of frames;
- `sessions`: what each live session asked for (model, layer, colour scale, overlay), by an unguessable
  token, and the work done for one batch of frames.

Nothing here imports streamlit: the page (pages/live.py) and the websocket route (cnnviz.ui.live_route)
do.
"""
