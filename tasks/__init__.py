"""Prefect tasks: one thin task per service call, plain inputs, pydantic results, own connection each."""
