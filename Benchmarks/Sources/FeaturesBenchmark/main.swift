print("FeaturesBenchmark: not written yet")
