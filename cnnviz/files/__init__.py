"""What users bring, read safely: model files (.keras, Keras 2 .h5, Teachable Machine exports) checked before
Keras sees them, guarded zips, the class names a cnnviz download carries, and the Keras Applications' ImageNet
weights downloaded on request."""
