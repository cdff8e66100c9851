"""What instructors use in front of a class: the certificate clinic (:mod:`.clinic`, served by ``make present``)."""
