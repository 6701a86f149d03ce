"""English texts. Keys are '<page or area>.<name>'; ko.py must have exactly the same keys."""

TEXTS = {
    # --- app and navigation ---
    "app.title": "cnnviz",
    "app.tagline": "See a convolutional neural network work, exactly as Keras computes it.",
    "nav.layer_lab": "Layer lab",
    "nav.activations": "Activations",
    "nav.filters": "Filters",
    "nav.convolution": "Convolution step by step",
    "nav.pooling": "Pooling step by step",
    "nav.probability": "Convolution of distributions",
    "nav.glossary": "Glossary",
    "nav.model": "Model",
    "nav.train": "Train",
    "nav.section.learn": "Learn",
    "nav.section.inspect": "Inspect",
    "nav.section.build": "Build",
    # --- sidebar ---
    "sidebar.language": "Language",
    "sidebar.model": "Model",
    "sidebar.image": "Image",
    "sidebar.image.source": "Image source",
    "sidebar.image.gallery": "Gallery",
    "sidebar.image.upload": "Upload",
    "sidebar.image.camera": "Camera",
    "sidebar.image.sample": "Sample image",
    "sidebar.device": "Device",
    # --- models ---
    "model.seed.desc": "The lecture's example: 120x60x1 input, three conv+pool blocks, Dense 128, 4 classes.",
    "model.tiny_vgg.desc": "Tiny VGG as in CNN Explainer: 64x64x3 input, two blocks of two 3x3 convs and a max pool, 10 classes.",
    "model.lenet5.desc": "LeNet-5 style: 32x32x1 input, 5x5 convs with average pooling, then 120-84-10.",
    # --- layer lab ---
    # --- activations ---
    # --- filters ---
    # --- convolution ---
    # --- pooling ---
    # --- probability ---
    # --- glossary ---
    # --- model ---
    # --- train ---
    # --- errors ---
    "error.unexpected": "Something went wrong on this page: {error}. The other pages keep working.",
}
