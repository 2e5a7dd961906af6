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
;; lays them out and passes their byte offsets to `configure`.
;; Regenerate the committed binary (env/kernel/assignment-kernel.wasm.ts) with
;; `npm run build:kernel`; a test checks that it matches this source.
(module
  (memory (export "memory") 1)

  (global $L (mut i32) (i32.const 0))
  (global $K (mut i32) (i32.const 0))
  ;; Byte offsets of the tables (see Simulator's fields of the same names).
  (global $prefixForward (mut i32) (i32.const 0))
  (global $prefixBackward (mut i32) (i32.const 0))
  (global $prefixUnrunnable (mut i32) (i32.const 0)) ;; 0: no unrunnable pair in the problem
  (global $prefixMemory (mut i32) (i32.const 0))
  (global $linkActivation (mut i32) (i32.const 0))
  (global $minBandwidth (mut i32) (i32.const 0))
  (global $price (mut i32) (i32.const 0))
  (global $memoryLow (mut i32) (i32.const 0))
  (global $memoryHigh (mut i32) (i32.const 0))
  (global $memory (mut i32) (i32.const 0))
  (global $count (mut i32) (i32.const 0))
  (global $used (mut i32) (i32.const 0))
  (global $microBatchesLess1 (mut f64) (f64.const 0))
  (global $maxTermsError (mut f64) (f64.const 0))
  (global $prefixRounding (mut f64) (f64.const 0))
  (global $fastTolerance (mut f64) (f64.const 0))
  (global $costObjective (mut i32) (i32.const 0))
  (global $budget (mut f64) (f64.const 0))
  (global $deadline (mut f64) (f64.const 0))

  (func (export "configure")
    (param $layers i32) (param $types i32)
    (param $pf i32) (param $pb i32) (param $pu i32) (param $pm i32) (param $la i32) (param $mb i32)
    (param $pr i32) (param $ml i32) (param $mh i32) (param $me i32) (param $co i32) (param $us i32)
    (param $m1 f64) (param $mte f64) (param $round f64) (param $tol f64)
    (param $cost i32) (param $bud f64) (param $dead f64)
    (global.set $L (local.get $layers))
    (global.set $K (local.get $types))
    (global.set $prefixForward (local.get $pf))
    (global.set $prefixBackward (local.get $pb))
    (global.set $prefixUnrunnable (local.get $pu))
    (global.set $prefixMemory (local.get $pm))
    (global.set $linkActivation (local.get $la))
    (global.set $minBandwidth (local.get $mb))
    (global.set $price (local.get $pr))
    (global.set $memoryLow (local.get $ml))
    (global.set $memoryHigh (local.get $mh))
    (global.set $memory (local.get $me))
    (global.set $count (local.get $co))
    (global.set $used (local.get $us))
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
    (func (export "scoreRows") (param $rowCount i32) (param $rows i32) (param $objectives i32) (param $violations i32) (param $flags i32)
    (local $i i32) (local $row i32) (local $L i32) (local $K i32) (local $stride i32)
    (local $pf i32) (local $pb i32) (local $pu i32) (local $pm i32) (local $la i32) (local $mb i32)
    (local $pr i32) (local $ml i32) (local $mh i32) (local $me i32) (local $us i32) (local $co i32)
    (local $first i32) (local $end i32) (local $k i32) (local $previous i32) (local $at i32) (local $t i32)
    (local $unrunnable i32) (local $nearLimit i32) (local $recompute i32)
    (local $base i32) (local $top i32) (local $l i32) (local $ends i64) (local $last i64)
    (local $sumMs f64) (local $maxForward f64) (local $maxBackward f64) (local $maxLink f64)
    (local $totalPrice f64) (local $violation f64) (local $magnitude f64) (local $memoryAtFirst f64)
    (local $endForward f64) (local $endBackward f64) (local $forward f64) (local $backward f64)
    (local $tau f64) (local $memoryAtEnd f64) (local $stageMemory f64) (local $stepMs f64)
    (local $allowance f64) (local $costPerStep f64) (local $available f64) (local $units f64) (local $objective f64)
    (local.set $L (global.get $L))
    (local.set $K (global.get $K))
    (local.set $stride (i32.add (local.get $L) (i32.const 1)))
    (local.set $pf (global.get $prefixForward))
    (local.set $pb (global.get $prefixBackward))
    (local.set $pu (global.get $prefixUnrunnable))
    (local.set $pm (global.get $prefixMemory))
    (local.set $la (global.get $linkActivation))
    (local.set $mb (global.get $minBandwidth))
    (local.set $pr (global.get $price))
    (local.set $ml (global.get $memoryLow))
    (local.set $mh (global.get $memoryHigh))
    (local.set $me (global.get $memory))
    (local.set $us (global.get $used))
    (local.set $co (global.get $count))
    (local.set $row (local.get $rows))
    (block $rowsDone
      (loop $eachRow
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $rowCount)))
        ;; used[k] = 0
        (local.set $t (i32.const 0))
        (block $clearDone
          (loop $clear
            (br_if $clearDone (i32.ge_u (local.get $t) (local.get $K)))
            (f64.store (i32.add (local.get $us) (i32.shl (local.get $t) (i32.const 3))) (f64.const 0))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $clear)))
        (local.set $sumMs (f64.const 0))
        (local.set $maxForward (f64.const 0))
        (local.set $maxBackward (f64.const 0))
        (local.set $maxLink (f64.const 0))
        (local.set $totalPrice (f64.const 0))
        (local.set $violation (f64.const 0))
        (local.set $magnitude (f64.const 0))
        (local.set $memoryAtFirst (f64.const 0))
        (local.set $unrunnable (i32.const 0))
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
          ;; Four layers per step (SIMD): bit j of the mask is set when layer l + j's type differs from layer l + j - 1's.
          ;; The last step may read past the row; bits past L are cleared below, bits past the word are shifted out.
          (block $maskDone
            (loop $mask
              (br_if $maskDone (i32.ge_u (local.get $l) (local.get $top)))
              (local.set $at (i32.add (local.get $row) (i32.shl (local.get $l) (i32.const 2))))
              (local.set $ends (i64.or (local.get $ends)
                (i64.shl
                  (i64.extend_i32_u (i32x4.bitmask (i32x4.ne (v128.load (local.get $at)) (v128.load (i32.sub (local.get $at) (i32.const 4))))))
                  (i64.extend_i32_u (i32.sub (local.get $l) (local.get $base))))))
              (local.set $l (i32.add (local.get $l) (i32.const 4)))
              (br $mask)))
          (if (i32.lt_u (local.get $L) (i32.add (local.get $base) (i32.const 64)))
            (then
              ;; The last word: no end past L, and the chain's end at L.
              (local.set $last (i64.shl (i64.const 1) (i64.extend_i32_u (i32.sub (local.get $L) (local.get $base)))))
              (local.set $ends (i64.or (i64.and (local.get $ends) (i64.sub (local.get $last) (i64.const 1))) (local.get $last)))))
          (block $bitsDone
            (loop $eachStage
              (br_if $bitsDone (i64.eqz (local.get $ends)))
              ;; Stage: layers first..end-1, all of type k.
              (local.set $end (i32.add (local.get $base) (i32.wrap_i64 (i64.ctz (local.get $ends)))))
              (local.set $ends (i64.and (local.get $ends) (i64.sub (local.get $ends) (i64.const 1))))
              (local.set $k (i32.load (i32.add (local.get $row) (i32.shl (local.get $first) (i32.const 2)))))
              ;; at: byte offset of type k's prefix row
              (local.set $at (i32.shl (i32.mul (local.get $k) (local.get $stride)) (i32.const 3)))
              (local.set $endForward (f64.load (i32.add (i32.add (local.get $pf) (local.get $at)) (i32.shl (local.get $end) (i32.const 3)))))
              (local.set $endBackward (f64.load (i32.add (i32.add (local.get $pb) (local.get $at)) (i32.shl (local.get $end) (i32.const 3)))))
              (local.set $forward (f64.sub (local.get $endForward)
                (f64.load (i32.add (i32.add (local.get $pf) (local.get $at)) (i32.shl (local.get $first) (i32.const 3))))))
              (local.set $backward (f64.sub (local.get $endBackward)
                (f64.load (i32.add (i32.add (local.get $pb) (local.get $at)) (i32.shl (local.get $first) (i32.const 3))))))
              (local.set $magnitude (f64.add (local.get $magnitude) (f64.add (local.get $endForward) (local.get $endBackward))))
              (if (local.get $pu)
                (then
                  ;; i32 table: half the byte offset of the f64 ones
                  (local.set $t (i32.add (local.get $pu) (i32.shr_u (local.get $at) (i32.const 1))))
                  (local.set $unrunnable (i32.add (local.get $unrunnable)
                    (i32.sub
                      (i32.load (i32.add (local.get $t) (i32.shl (local.get $end) (i32.const 2))))
                      (i32.load (i32.add (local.get $t) (i32.shl (local.get $first) (i32.const 2)))))))))
              ;; The link before the stage (0 before the first: its activation is 0).
              (local.set $tau (f64.mul
                (f64.div
                  (f64.load (i32.add (local.get $la) (i32.shl (local.get $first) (i32.const 3))))
                  (f64.load (i32.add (local.get $mb) (i32.shl (i32.add (i32.mul (local.get $previous) (local.get $K)) (local.get $k)) (i32.const 3)))))
                (f64.const 1000)))
              (local.set $sumMs (f64.add (local.get $sumMs) (f64.add (local.get $tau) (local.get $tau))))
              (local.set $maxLink (select (local.get $tau) (local.get $maxLink) (f64.gt (local.get $tau) (local.get $maxLink))))
              (local.set $sumMs (f64.add (local.get $sumMs) (f64.add (local.get $forward) (local.get $backward))))
              (local.set $maxForward (select (local.get $forward) (local.get $maxForward) (f64.gt (local.get $forward) (local.get $maxForward))))
              (local.set $maxBackward (select (local.get $backward) (local.get $maxBackward) (f64.gt (local.get $backward) (local.get $maxBackward))))
              (local.set $t (i32.shl (local.get $k) (i32.const 3)))
              (local.set $totalPrice (f64.add (local.get $totalPrice) (f64.load (i32.add (local.get $pr) (local.get $t)))))
              (f64.store (i32.add (local.get $us) (local.get $t))
                (f64.add (f64.load (i32.add (local.get $us) (local.get $t))) (f64.const 1)))
              (local.set $memoryAtEnd (f64.load (i32.add (local.get $pm) (i32.shl (local.get $end) (i32.const 3)))))
              (local.set $stageMemory (f64.sub (local.get $memoryAtEnd) (local.get $memoryAtFirst)))
              (if (f64.gt (local.get $stageMemory) (f64.load (i32.add (local.get $ml) (local.get $t))))
                (then
                  (if (f64.gt (local.get $stageMemory) (f64.load (i32.add (local.get $mh) (local.get $t))))
                    (then
                      (local.set $violation (f64.add (local.get $violation)
                        (f64.sub (f64.div (local.get $stageMemory) (f64.load (i32.add (local.get $me) (local.get $t)))) (f64.const 1)))))
                    (else (local.set $nearLimit (i32.const 1))))))
              (local.set $previous (local.get $k))
              (local.set $first (local.get $end))
              (local.set $memoryAtFirst (local.get $memoryAtEnd))
              (br $eachStage)))
          (local.set $base (i32.add (local.get $base) (i32.const 64)))
          (br_if $eachWord (i32.le_u (local.get $base) (local.get $L))))
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
            (local.set $available (f64.load (i32.add (local.get $co) (i32.shl (local.get $t) (i32.const 3)))))
            (local.set $units (f64.load (i32.add (local.get $us) (i32.shl (local.get $t) (i32.const 3)))))
            (if (f64.gt (local.get $units) (local.get $available))
              (then
                (local.set $violation (f64.add (local.get $violation)
                  (f64.div (f64.sub (local.get $units) (local.get $available)) (f64.max (f64.const 1) (local.get $available)))))))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $counts)))
        (local.set $costPerStep (f64.div (f64.mul (local.get $totalPrice) (local.get $stepMs)) (f64.const 3600000)))
        (if (i32.gt_s (local.get $unrunnable) (i32.const 0))
          (then
            (local.set $violation (f64.add (local.get $violation) (f64.mul (f64.const 10) (f64.convert_i32_s (local.get $unrunnable))))))
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
        (if (i32.gt_s (local.get $unrunnable) (i32.const 0)) (then (local.set $objective (f64.const nan))))
        (f64.store (i32.add (local.get $objectives) (i32.shl (local.get $i) (i32.const 3))) (local.get $objective))
        (f64.store (i32.add (local.get $violations) (i32.shl (local.get $i) (i32.const 3))) (local.get $violation))
        (local.set $row (i32.add (local.get $row) (i32.shl (local.get $L) (i32.const 2))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $eachRow)))))
