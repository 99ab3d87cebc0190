"""`repro verify`: build twice, independently, and compare the two OCI outputs.

``service`` runs the use case with the adapters it is given (a builder, source control);
``model`` holds its result and the verification record it is written down as.
"""
