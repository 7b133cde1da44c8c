"""Benchmarks that print figures (`make bench`). Each bench_*.py module has a main()."""
