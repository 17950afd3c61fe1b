"""squeezehome converter: Keras SqueezeBERT, training, distillation and int8 TFLite conversion."""
