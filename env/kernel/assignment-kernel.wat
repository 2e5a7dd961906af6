;; The assignment form's fast path (Simulator.scoreRow in env/simulate.ts) as a
;; WebAssembly kernel that scores a batch of assignments per call, so the
;; crossing between JavaScript and WebAssembly is paid once per batch.
;;
;; Every float operation is the one scoreRow does, on the same operands in the
;; same order (IEEE double arithmetic is exact-rounded in both, and neither
;; fuses operations), so each score is bit for bit what scoreAssignment gives.
;; Rows whose fast score scoreRow would recompute in layer order (rounding too
;; close to call, a limit too close to call) are only flagged here: JavaScript
;; recomputes them.
;;
;; Tables and rows live in this module's memory; env/kernel/assignment-kernel.ts
;; lays them out and passes their byte offsets to `configure`. The tables are
;; records, so that one address serves several loads (fewer live registers):
;;   prefix[k][l] (32 bytes, k-major, L + 1 per type): Σ forward, Σ backward and the
;;     number of unrunnable layers (as a double, exact) of layers 0..l-1 on type k;
;;   types[k] (64 bytes): price, memoryLow, memoryHigh, memory, count, units used;
;;   prefixMemory[l]: Σ memory of layers 0..l-1 on one replica;
;;   linkActivation[l], minBandwidth[previous × K + k]: the link before layer l (Simulator's tables).
;; Regenerate the committed binary (env/kernel/assignment-kernel.wasm.ts) with
;; `npm run build:kernel`; a test checks that it matches this source.
;;
;; Lines between `;;@if PART` and `;;@else` / `;;@end` are the kernel with that part,
;; the lines after `;;@else` the kernel without it (build-kernel.ts keeps one or the
;; other; the committed binary has every part, the benchmark times each one left out):
;;   simd: stage ends four layers per SIMD compare (without: one layer per step);
;;   integerMaxima: maxima as integer selects (without: float compares, which V8 compiles
;;     to branches on the data).
(module
  (memory (export "memory") 1)

  (global $L (mut i32) (i32.const 0))
  (global $K (mut i32) (i32.const 0))
  (global $prefix (mut i32) (i32.const 0))
  (global $types (mut i32) (i32.const 0))
  (global $prefixMemory (mut i32) (i32.const 0))
  (global $linkActivation (mut i32) (i32.const 0))
  (global $minBandwidth (mut i32) (i32.const 0))
  (global $microBatchesLess1 (mut f64) (f64.const 0))
  (global $maxTermsError (mut f64) (f64.const 0))
  (global $prefixRounding (mut f64) (f64.const 0))
  (global $fastTolerance (mut f64) (f64.const 0))
  (global $costObjective (mut i32) (i32.const 0))
  (global $budget (mut f64) (f64.const 0))
  (global $deadline (mut f64) (f64.const 0))

  (func (export "configure")
    (param $layers i32) (param $typeCount i32) (param $prefixAt i32) (param $typesAt i32) (param $memoryAt i32) (param $la i32) (param $mb i32)
    (param $m1 f64) (param $mte f64) (param $round f64) (param $tol f64) (param $cost i32) (param $bud f64) (param $dead f64)
    (global.set $L (local.get $layers))
    (global.set $K (local.get $typeCount))
    (global.set $prefix (local.get $prefixAt))
    (global.set $types (local.get $typesAt))
    (global.set $prefixMemory (local.get $memoryAt))
    (global.set $linkActivation (local.get $la))
    (global.set $minBandwidth (local.get $mb))
    (global.set $microBatchesLess1 (local.get $m1))
    (global.set $maxTermsError (local.get $mte))
    (global.set $prefixRounding (local.get $round))
    (global.set $fastTolerance (local.get $tol))
    (global.set $costObjective (local.get $cost))
    (global.set $budget (local.get $bud))
    (global.set $deadline (local.get $dead)))

  ;; Scores `rowCount` assignments of L types (i32) stored row after row at `rows`.
  ;; Row i: objective (f64) at objectives + 8i, violation (f64) at violations + 8i,
  ;; and recompute (i32) at flags + 4i: 1 when JavaScript must score the row in layer
  ;; order (its objective and violation here are then meaningless), else 0.
  ;; Reads up to three i32 past the end of the last row (their values are not used).
  (func (export "scoreRows") (param $rowCount i32) (param $rows i32) (param $objectives i32) (param $violations i32) (param $flags i32)
    (local $i i32) (local $row i32) (local $L i32) (local $K i32) (local $stride i32)
    (local $prefix i32) (local $types i32) (local $pm i32) (local $la i32) (local $mb i32)
    (local $first i32) (local $end i32) (local $k i32) (local $previous i32) (local $t i32)
    (local $atEnd i32) (local $atFirst i32) (local $type i32) (local $nearLimit i32) (local $recompute i32)
    (local $base i32) (local $top i32) (local $l i32) (local $ends i64) (local $last i64)
    (local $bits i64) (local $maxForwardBits i64) (local $maxBackwardBits i64) (local $maxLinkBits i64)
    (local $sumMs f64) (local $maxForward f64) (local $maxBackward f64) (local $maxLink f64)
    (local $totalPrice f64) (local $violation f64) (local $magnitude f64) (local $memoryAtFirst f64) (local $unrunnable f64)
    (local $endForward f64) (local $endBackward f64) (local $forward f64) (local $backward f64)
    (local $tau f64) (local $memoryAtEnd f64) (local $stageMemory f64) (local $stepMs f64)
    (local $allowance f64) (local $costPerStep f64) (local $available f64) (local $units f64) (local $objective f64)
    (local.set $L (global.get $L))
    (local.set $K (global.get $K))
    (local.set $stride (i32.add (local.get $L) (i32.const 1)))
    (local.set $prefix (global.get $prefix))
    (local.set $types (global.get $types))
    (local.set $pm (global.get $prefixMemory))
    (local.set $la (global.get $linkActivation))
    (local.set $mb (global.get $minBandwidth))
    (local.set $row (local.get $rows))
    (block $rowsDone
      (loop $eachRow
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $rowCount)))
        ;; units used = 0
        (local.set $t (i32.const 0))
        (block $clearDone
          (loop $clear
            (br_if $clearDone (i32.ge_u (local.get $t) (local.get $K)))
            (f64.store offset=40 (i32.add (local.get $types) (i32.shl (local.get $t) (i32.const 6))) (f64.const 0))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $clear)))
        (local.set $sumMs (f64.const 0))
;;@if integerMaxima
        (local.set $maxForwardBits (i64.const 0))
        (local.set $maxBackwardBits (i64.const 0))
        (local.set $maxLinkBits (i64.const 0))
;;@else
        (local.set $maxForward (f64.const 0))
        (local.set $maxBackward (f64.const 0))
        (local.set $maxLink (f64.const 0))
;;@end
        (local.set $totalPrice (f64.const 0))
        (local.set $violation (f64.const 0))
        (local.set $magnitude (f64.const 0))
        (local.set $memoryAtFirst (f64.const 0))
        (local.set $unrunnable (f64.const 0))
        (local.set $nearLimit (i32.const 0))
        (local.set $first (i32.const 0))
        (local.set $previous (i32.load (local.get $row)))
        ;; Stage ends 64 layers at a time, as the bits of one i64 built without branches: bit j of
        ;; `ends` is set when a run ends before layer base + j (the type changes there, or base + j = L).
        ;; The stages are then taken lowest bit first, one per set bit: no branch depends on where
        ;; the runs end but the loop's exit, once per word.
        (local.set $base (i32.const 0))
        (loop $eachWord
          (local.set $ends (i64.const 0))
          (local.set $top (select (i32.add (local.get $base) (i32.const 64)) (local.get $L)
            (i32.lt_u (i32.add (local.get $base) (i32.const 64)) (local.get $L))))
          (local.set $l (select (local.get $base) (i32.const 1) (local.get $base)))
;;@if simd
          ;; Four layers per step (SIMD): bit j of the step's mask is set when layer l + j's type
          ;; differs from layer l + j - 1's. The last step may read past the row: bits past L are
          ;; cleared below, bits past the word are shifted out (the next word has them).
          (block $maskDone
            (loop $mask
              (br_if $maskDone (i32.ge_u (local.get $l) (local.get $top)))
              (local.set $t (i32.add (local.get $row) (i32.shl (local.get $l) (i32.const 2))))
              (local.set $ends (i64.or (local.get $ends)
                (i64.shl
                  (i64.extend_i32_u (i32x4.bitmask (i32x4.ne (v128.load (local.get $t)) (v128.load (i32.sub (local.get $t) (i32.const 4))))))
                  (i64.extend_i32_u (i32.sub (local.get $l) (local.get $base))))))
              (local.set $l (i32.add (local.get $l) (i32.const 4)))
              (br $mask)))
;;@else
          ;; One layer per step: bit l - base is set when layer l's type differs from layer l - 1's.
          (block $maskDone
            (loop $mask
              (br_if $maskDone (i32.ge_u (local.get $l) (local.get $top)))
              (local.set $t (i32.add (local.get $row) (i32.shl (local.get $l) (i32.const 2))))
              (local.set $ends (i64.or (local.get $ends)
                (i64.shl
                  (i64.extend_i32_u (i32.ne (i32.load (local.get $t)) (i32.load (i32.sub (local.get $t) (i32.const 4)))))
                  (i64.extend_i32_u (i32.sub (local.get $l) (local.get $base))))))
              (local.set $l (i32.add (local.get $l) (i32.const 1)))
              (br $mask)))
;;@end
          (if (i32.lt_u (local.get $L) (i32.add (local.get $base) (i32.const 64)))
            (then
              ;; The last word: no end past L, and the chain's end at L.
              (local.set $last (i64.shl (i64.const 1) (i64.extend_i32_u (i32.sub (local.get $L) (local.get $base)))))
              (local.set $ends (i64.or (i64.and (local.get $ends) (i64.sub (local.get $last) (i64.const 1))) (local.get $last)))))
          (block $bitsDone
            (loop $eachStage
              (br_if $bitsDone (i64.eqz (local.get $ends)))
              ;; Stage: layers first..end-1, all of type k, one unit.
              (local.set $end (i32.add (local.get $base) (i32.wrap_i64 (i64.ctz (local.get $ends)))))
              (local.set $ends (i64.and (local.get $ends) (i64.sub (local.get $ends) (i64.const 1))))
              (local.set $k (i32.load (i32.add (local.get $row) (i32.shl (local.get $first) (i32.const 2)))))
              (local.set $t (i32.add (local.get $prefix) (i32.shl (i32.mul (local.get $k) (local.get $stride)) (i32.const 5))))
              (local.set $atEnd (i32.add (local.get $t) (i32.shl (local.get $end) (i32.const 5))))
              (local.set $atFirst (i32.add (local.get $t) (i32.shl (local.get $first) (i32.const 5))))
              (local.set $endForward (f64.load (local.get $atEnd)))
              (local.set $endBackward (f64.load offset=8 (local.get $atEnd)))
              (local.set $forward (f64.sub (local.get $endForward) (f64.load (local.get $atFirst))))
              (local.set $backward (f64.sub (local.get $endBackward) (f64.load offset=8 (local.get $atFirst))))
              (local.set $magnitude (f64.add (local.get $magnitude) (f64.add (local.get $endForward) (local.get $endBackward))))
              (local.set $unrunnable (f64.add (local.get $unrunnable)
                (f64.sub (f64.load offset=16 (local.get $atEnd)) (f64.load offset=16 (local.get $atFirst)))))
              ;; The link before the stage (0 before the first: its activation is 0).
              (local.set $tau (f64.mul
                (f64.div
                  (f64.load (i32.add (local.get $la) (i32.shl (local.get $first) (i32.const 3))))
                  (f64.load (i32.add (local.get $mb) (i32.shl (i32.add (i32.mul (local.get $previous) (local.get $K)) (local.get $k)) (i32.const 3)))))
                (f64.const 1000)))
              (local.set $sumMs (f64.add (local.get $sumMs) (f64.add (local.get $tau) (local.get $tau))))
              (local.set $sumMs (f64.add (local.get $sumMs) (f64.add (local.get $forward) (local.get $backward))))
;;@if integerMaxima
              ;; The maxima (`if (x > max) max = x` in scoreRow) on the bits as integers: the maxima
              ;; start at +0 and stay >= +0, and no term is NaN (the kernel is only made then), so
              ;; integer order is float order here (negative terms and -0 are negative integers, below
              ;; every max), and the select becomes a conditional move instead of a branch.
              (local.set $bits (i64.reinterpret_f64 (local.get $tau)))
              (local.set $maxLinkBits (select (local.get $bits) (local.get $maxLinkBits) (i64.gt_s (local.get $bits) (local.get $maxLinkBits))))
              (local.set $bits (i64.reinterpret_f64 (local.get $forward)))
              (local.set $maxForwardBits (select (local.get $bits) (local.get $maxForwardBits) (i64.gt_s (local.get $bits) (local.get $maxForwardBits))))
              (local.set $bits (i64.reinterpret_f64 (local.get $backward)))
              (local.set $maxBackwardBits (select (local.get $bits) (local.get $maxBackwardBits) (i64.gt_s (local.get $bits) (local.get $maxBackwardBits))))
;;@else
              (local.set $maxLink (select (local.get $tau) (local.get $maxLink) (f64.gt (local.get $tau) (local.get $maxLink))))
              (local.set $maxForward (select (local.get $forward) (local.get $maxForward) (f64.gt (local.get $forward) (local.get $maxForward))))
              (local.set $maxBackward (select (local.get $backward) (local.get $maxBackward) (f64.gt (local.get $backward) (local.get $maxBackward))))
;;@end
              (local.set $type (i32.add (local.get $types) (i32.shl (local.get $k) (i32.const 6))))
              (local.set $totalPrice (f64.add (local.get $totalPrice) (f64.load (local.get $type))))
              (f64.store offset=40 (local.get $type) (f64.add (f64.load offset=40 (local.get $type)) (f64.const 1)))
              (local.set $memoryAtEnd (f64.load (i32.add (local.get $pm) (i32.shl (local.get $end) (i32.const 3)))))
              (local.set $stageMemory (f64.sub (local.get $memoryAtEnd) (local.get $memoryAtFirst)))
              (if (f64.gt (local.get $stageMemory) (f64.load offset=8 (local.get $type)))
                (then
                  (if (f64.gt (local.get $stageMemory) (f64.load offset=16 (local.get $type)))
                    (then
                      (local.set $violation (f64.add (local.get $violation)
                        (f64.sub (f64.div (local.get $stageMemory) (f64.load offset=24 (local.get $type))) (f64.const 1)))))
                    (else (local.set $nearLimit (i32.const 1))))))
              (local.set $previous (local.get $k))
              (local.set $first (local.get $end))
              (local.set $memoryAtFirst (local.get $memoryAtEnd))
              (br $eachStage)))
          (local.set $base (i32.add (local.get $base) (i32.const 64)))
          (br_if $eachWord (i32.le_u (local.get $base) (local.get $L))))
;;@if integerMaxima
        (local.set $maxForward (f64.reinterpret_i64 (local.get $maxForwardBits)))
        (local.set $maxBackward (f64.reinterpret_i64 (local.get $maxBackwardBits)))
        (local.set $maxLink (f64.reinterpret_i64 (local.get $maxLinkBits)))
;;@end
        ;; A link counts in both directions: the largest link joins both maxima once.
        (local.set $maxForward (select (local.get $maxLink) (local.get $maxForward) (f64.gt (local.get $maxLink) (local.get $maxForward))))
        (local.set $maxBackward (select (local.get $maxLink) (local.get $maxBackward) (f64.gt (local.get $maxLink) (local.get $maxBackward))))
        (local.set $stepMs (f64.add (local.get $sumMs)
          (f64.mul (global.get $microBatchesLess1) (f64.add (local.get $maxForward) (local.get $maxBackward)))))
        (local.set $allowance (f64.mul (global.get $prefixRounding) (f64.add (local.get $magnitude) (global.get $maxTermsError))))
        (local.set $recompute
          (i32.or
            (i32.or (local.get $nearLimit)
              (f64.gt (local.get $allowance) (f64.mul (global.get $fastTolerance) (local.get $stepMs))))
            (i32.and (global.get $costObjective)
              (f64.le (f64.abs (f64.sub (local.get $stepMs) (global.get $deadline))) (local.get $allowance)))))
        (i32.store (i32.add (local.get $flags) (i32.shl (local.get $i) (i32.const 2))) (local.get $recompute))
        ;; Simulator.finish: unit counts, then unrunnable layers, overflow, the budget or the deadline.
        (local.set $t (i32.const 0))
        (block $countsDone
          (loop $counts
            (br_if $countsDone (i32.ge_u (local.get $t) (local.get $K)))
            (local.set $type (i32.add (local.get $types) (i32.shl (local.get $t) (i32.const 6))))
            (local.set $available (f64.load offset=32 (local.get $type)))
            (local.set $units (f64.load offset=40 (local.get $type)))
            (if (f64.gt (local.get $units) (local.get $available))
              (then
                (local.set $violation (f64.add (local.get $violation)
                  (f64.div (f64.sub (local.get $units) (local.get $available)) (f64.max (f64.const 1) (local.get $available)))))))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $counts)))
        (local.set $costPerStep (f64.div (f64.mul (local.get $totalPrice) (local.get $stepMs)) (f64.const 3600000)))
        (if (f64.gt (local.get $unrunnable) (f64.const 0))
          (then
            (local.set $violation (f64.add (local.get $violation) (f64.mul (f64.const 10) (local.get $unrunnable)))))
          (else
            (if (i32.eqz
                  (i32.and
                    (i32.and (f64.lt (local.get $stepMs) (f64.const inf)) (f64.lt (local.get $totalPrice) (f64.const inf)))
                    (f64.lt (local.get $costPerStep) (f64.const inf))))
              (then (local.set $violation (f64.add (local.get $violation) (f64.const 1e6))))
              (else
                (if (global.get $costObjective)
                  (then
                    (if (f64.gt (local.get $stepMs) (global.get $deadline))
                      (then (local.set $violation (f64.add (local.get $violation)
                        (f64.sub (f64.div (local.get $stepMs) (global.get $deadline)) (f64.const 1)))))))
                  (else
                    (if (f64.gt (local.get $totalPrice) (global.get $budget))
                      (then (local.set $violation (f64.add (local.get $violation)
                        (f64.sub (f64.div (local.get $totalPrice) (global.get $budget)) (f64.const 1))))))))))))
        (local.set $objective
          (select (local.get $costPerStep) (local.get $stepMs) (global.get $costObjective)))
        (if (f64.gt (local.get $unrunnable) (f64.const 0)) (then (local.set $objective (f64.const nan))))
        (f64.store (i32.add (local.get $objectives) (i32.shl (local.get $i) (i32.const 3))) (local.get $objective))
        (f64.store (i32.add (local.get $violations) (i32.shl (local.get $i) (i32.const 3))) (local.get $violation))
        (local.set $row (i32.add (local.get $row) (i32.shl (local.get $L) (i32.const 2))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $eachRow)))))
