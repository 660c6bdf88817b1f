#!/bin/sh
# Stand-in for the upstream script, which is not part of the test data.
