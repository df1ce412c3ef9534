print("ModelsBenchmark: not written yet")
