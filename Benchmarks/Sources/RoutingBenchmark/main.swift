print("RoutingBenchmark: not written yet")
