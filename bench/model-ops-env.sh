# Sourced by the bench scripts (run from the repository root): builds model-ops and sets
#   OUT  target/bench, where the scripts write their outputs
#   CP   model-ops' classes and dependencies, for `java -cp "$CP" dev.understudy.ops.bench.…`
# and defines have_torch, true when Debian's python3-torch (the reference) is installed.
OUT=target/bench; mkdir -p "$OUT"
mvn -B -q -pl model-ops -am package -DskipTests
mvn -B -q -pl model-ops dependency:build-classpath -Dmdep.outputFile="$PWD/$OUT/cp.txt" >/dev/null
CP="model-ops/target/classes:$(cat "$OUT/cp.txt")"
have_torch() {
  if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    return 0
  fi
  echo "PyTorch reference skipped: /usr/bin/python3 has no torch (apt-get install -y python3-torch libopenblas0-openmp)" >&2
  return 1
}
