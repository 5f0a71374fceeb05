"""Reading images users send: the codes in a photo, a screenshot or a PDF (zxing-cpp)."""
