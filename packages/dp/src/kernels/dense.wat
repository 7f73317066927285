;; Dense-layer kernels for the built-in MLP's training pass (WebAssembly SIMD, 128-bit vectors).
;;
;; Source of the bytes in dense-wasm.ts; recompile with `node scripts/dp-kernels.ts` (a test checks that the bytes
;; match this file). Layout rules the caller guarantees (see dense-simd.ts):
;; - matrices are row-major (float32 unless a kernel says float64) with a column count that is a multiple of 4,
;;   padded with zeros;
;; - the row count m of every product is a multiple of 4 (padding rows are zero where it matters);
;; - strides are in bytes; memory is imported, the caller owns the layout.
;;
;; Forward and backward passes run in float32 (`gemm_f32`), as PyTorch and Opacus do by default. The clipped
;; gradient sum runs in float64 (`gemm_f64` on operands promoted exactly from float32 by `promote`/`scale_rows`),
;; so it carries only float64 rounding; ghost norms square and add in float64 (`row_sumsq`).
(module
  (import "env" "memory" (memory 1))

  ;; C[m x n] += A[m x k] · B[k x n], float32. A(i, kk) is at a + i*sai + kk*sak (any strides, so A may be a
  ;; transposed view); B and C are dense with n*4 bytes per row. Register block: 4 rows x 8 columns (8 vectors),
  ;; then a 4 x 4 block when n mod 8 = 4.
  (func (export "gemm_f32")
    (param $a i32) (param $b i32) (param $c i32) (param $m i32) (param $n i32) (param $k i32)
    (param $sai i32) (param $sak i32)
    (local $i i32) (local $j i32) (local $kk i32) (local $ld i32)
    (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32) (local $pb i32) (local $pc i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $x v128)
    (local.set $ld (i32.shl (local.get $n) (i32.const 2)))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $i) (local.get $m)))
        (local.set $j (i32.const 0))
        ;; 4 x 8 blocks
        (block $wide_done
          (loop $wide
            (br_if $wide_done (i32.gt_u (i32.add (local.get $j) (i32.const 8)) (local.get $n)))
            (local.set $pc (i32.add (local.get $c)
              (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j)) (i32.const 2))))
            (local.set $c00 (v128.load (local.get $pc)))
            (local.set $c01 (v128.load offset=16 (local.get $pc)))
            (local.set $c10 (v128.load (i32.add (local.get $pc) (local.get $ld))))
            (local.set $c11 (v128.load offset=16 (i32.add (local.get $pc) (local.get $ld))))
            (local.set $c20 (v128.load (i32.add (local.get $pc) (i32.shl (local.get $ld) (i32.const 1)))))
            (local.set $c21 (v128.load offset=16 (i32.add (local.get $pc) (i32.shl (local.get $ld) (i32.const 1)))))
            (local.set $c30 (v128.load (i32.add (local.get $pc) (i32.mul (local.get $ld) (i32.const 3)))))
            (local.set $c31 (v128.load offset=16 (i32.add (local.get $pc) (i32.mul (local.get $ld) (i32.const 3)))))
            (local.set $p0 (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $sai))))
            (local.set $p1 (i32.add (local.get $p0) (local.get $sai)))
            (local.set $p2 (i32.add (local.get $p1) (local.get $sai)))
            (local.set $p3 (i32.add (local.get $p2) (local.get $sai)))
            (local.set $pb (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $kk (local.get $k))
            (block $inner_done
              (loop $inner
                (br_if $inner_done (i32.eqz (local.get $kk)))
                (local.set $b0 (v128.load (local.get $pb)))
                (local.set $b1 (v128.load offset=16 (local.get $pb)))
                (local.set $x (f32x4.splat (f32.load (local.get $p0))))
                (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
                (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
                (local.set $x (f32x4.splat (f32.load (local.get $p1))))
                (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
                (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
                (local.set $x (f32x4.splat (f32.load (local.get $p2))))
                (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
                (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x) (local.get $b1))))
                (local.set $x (f32x4.splat (f32.load (local.get $p3))))
                (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
                (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x) (local.get $b1))))
                (local.set $p0 (i32.add (local.get $p0) (local.get $sak)))
                (local.set $p1 (i32.add (local.get $p1) (local.get $sak)))
                (local.set $p2 (i32.add (local.get $p2) (local.get $sak)))
                (local.set $p3 (i32.add (local.get $p3) (local.get $sak)))
                (local.set $pb (i32.add (local.get $pb) (local.get $ld)))
                (local.set $kk (i32.sub (local.get $kk) (i32.const 1)))
                (br $inner)))
            (v128.store (local.get $pc) (local.get $c00))
            (v128.store offset=16 (local.get $pc) (local.get $c01))
            (v128.store (i32.add (local.get $pc) (local.get $ld)) (local.get $c10))
            (v128.store offset=16 (i32.add (local.get $pc) (local.get $ld)) (local.get $c11))
            (v128.store (i32.add (local.get $pc) (i32.shl (local.get $ld) (i32.const 1))) (local.get $c20))
            (v128.store offset=16 (i32.add (local.get $pc) (i32.shl (local.get $ld) (i32.const 1))) (local.get $c21))
            (v128.store (i32.add (local.get $pc) (i32.mul (local.get $ld) (i32.const 3))) (local.get $c30))
            (v128.store offset=16 (i32.add (local.get $pc) (i32.mul (local.get $ld) (i32.const 3))) (local.get $c31))
            (local.set $j (i32.add (local.get $j) (i32.const 8)))
            (br $wide)))
        ;; the last 4 columns when n mod 8 = 4
        (if (i32.lt_u (local.get $j) (local.get $n))
          (then
            (local.set $pc (i32.add (local.get $c)
              (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j)) (i32.const 2))))
            (local.set $c00 (v128.load (local.get $pc)))
            (local.set $c10 (v128.load (i32.add (local.get $pc) (local.get $ld))))
            (local.set $c20 (v128.load (i32.add (local.get $pc) (i32.shl (local.get $ld) (i32.const 1)))))
            (local.set $c30 (v128.load (i32.add (local.get $pc) (i32.mul (local.get $ld) (i32.const 3)))))
            (local.set $p0 (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $sai))))
            (local.set $p1 (i32.add (local.get $p0) (local.get $sai)))
            (local.set $p2 (i32.add (local.get $p1) (local.get $sai)))
            (local.set $p3 (i32.add (local.get $p2) (local.get $sai)))
            (local.set $pb (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $kk (local.get $k))
            (block $tail_done
              (loop $tail
                (br_if $tail_done (i32.eqz (local.get $kk)))
                (local.set $b0 (v128.load (local.get $pb)))
                (local.set $c00 (f32x4.add (local.get $c00)
                  (f32x4.mul (f32x4.splat (f32.load (local.get $p0))) (local.get $b0))))
                (local.set $c10 (f32x4.add (local.get $c10)
                  (f32x4.mul (f32x4.splat (f32.load (local.get $p1))) (local.get $b0))))
                (local.set $c20 (f32x4.add (local.get $c20)
                  (f32x4.mul (f32x4.splat (f32.load (local.get $p2))) (local.get $b0))))
                (local.set $c30 (f32x4.add (local.get $c30)
                  (f32x4.mul (f32x4.splat (f32.load (local.get $p3))) (local.get $b0))))
                (local.set $p0 (i32.add (local.get $p0) (local.get $sak)))
                (local.set $p1 (i32.add (local.get $p1) (local.get $sak)))
                (local.set $p2 (i32.add (local.get $p2) (local.get $sak)))
                (local.set $p3 (i32.add (local.get $p3) (local.get $sak)))
                (local.set $pb (i32.add (local.get $pb) (local.get $ld)))
                (local.set $kk (i32.sub (local.get $kk) (i32.const 1)))
                (br $tail)))
            (v128.store (local.get $pc) (local.get $c00))
            (v128.store (i32.add (local.get $pc) (local.get $ld)) (local.get $c10))
            (v128.store (i32.add (local.get $pc) (i32.shl (local.get $ld) (i32.const 1))) (local.get $c20))
            (v128.store (i32.add (local.get $pc) (i32.mul (local.get $ld) (i32.const 3))) (local.get $c30))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $rows)))
  )

  ;; C[m x n] += A[m x k] · B[k x n] in float64 (C dense, n*8 bytes per row; B dense, n*8 bytes per row; A(i, kk)
  ;; at a + i*sai + kk*sak). Register block: 4 rows x 4 columns (8 f64x2 accumulators), n a multiple of 4.
  (func (export "gemm_f64")
    (param $a i32) (param $b i32) (param $c i32) (param $m i32) (param $n i32) (param $k i32)
    (param $sai i32) (param $sak i32)
    (local $i i32) (local $j i32) (local $kk i32) (local $ld i32)
    (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32) (local $pb i32) (local $pc i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $x v128)
    (local.set $ld (i32.shl (local.get $n) (i32.const 3)))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $i) (local.get $m)))
        (local.set $j (i32.const 0))
        (block $cols_done
          (loop $cols
            (br_if $cols_done (i32.ge_u (local.get $j) (local.get $n)))
            (local.set $pc (i32.add (local.get $c)
              (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j)) (i32.const 3))))
            (local.set $c00 (v128.load (local.get $pc)))
            (local.set $c01 (v128.load offset=16 (local.get $pc)))
            (local.set $c10 (v128.load (i32.add (local.get $pc) (local.get $ld))))
            (local.set $c11 (v128.load offset=16 (i32.add (local.get $pc) (local.get $ld))))
            (local.set $c20 (v128.load (i32.add (local.get $pc) (i32.shl (local.get $ld) (i32.const 1)))))
            (local.set $c21 (v128.load offset=16 (i32.add (local.get $pc) (i32.shl (local.get $ld) (i32.const 1)))))
            (local.set $c30 (v128.load (i32.add (local.get $pc) (i32.mul (local.get $ld) (i32.const 3)))))
            (local.set $c31 (v128.load offset=16 (i32.add (local.get $pc) (i32.mul (local.get $ld) (i32.const 3)))))
            (local.set $p0 (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $sai))))
            (local.set $p1 (i32.add (local.get $p0) (local.get $sai)))
            (local.set $p2 (i32.add (local.get $p1) (local.get $sai)))
            (local.set $p3 (i32.add (local.get $p2) (local.get $sai)))
            (local.set $pb (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 3))))
            (local.set $kk (local.get $k))
            (block $inner_done
              (loop $inner
                (br_if $inner_done (i32.eqz (local.get $kk)))
                (local.set $b0 (v128.load (local.get $pb)))
                (local.set $b1 (v128.load offset=16 (local.get $pb)))
                (local.set $x (v128.load64_splat (local.get $p0)))
                (local.set $c00 (f64x2.add (local.get $c00) (f64x2.mul (local.get $x) (local.get $b0))))
                (local.set $c01 (f64x2.add (local.get $c01) (f64x2.mul (local.get $x) (local.get $b1))))
                (local.set $x (v128.load64_splat (local.get $p1)))
                (local.set $c10 (f64x2.add (local.get $c10) (f64x2.mul (local.get $x) (local.get $b0))))
                (local.set $c11 (f64x2.add (local.get $c11) (f64x2.mul (local.get $x) (local.get $b1))))
                (local.set $x (v128.load64_splat (local.get $p2)))
                (local.set $c20 (f64x2.add (local.get $c20) (f64x2.mul (local.get $x) (local.get $b0))))
                (local.set $c21 (f64x2.add (local.get $c21) (f64x2.mul (local.get $x) (local.get $b1))))
                (local.set $x (v128.load64_splat (local.get $p3)))
                (local.set $c30 (f64x2.add (local.get $c30) (f64x2.mul (local.get $x) (local.get $b0))))
                (local.set $c31 (f64x2.add (local.get $c31) (f64x2.mul (local.get $x) (local.get $b1))))
                (local.set $p0 (i32.add (local.get $p0) (local.get $sak)))
                (local.set $p1 (i32.add (local.get $p1) (local.get $sak)))
                (local.set $p2 (i32.add (local.get $p2) (local.get $sak)))
                (local.set $p3 (i32.add (local.get $p3) (local.get $sak)))
                (local.set $pb (i32.add (local.get $pb) (local.get $ld)))
                (local.set $kk (i32.sub (local.get $kk) (i32.const 1)))
                (br $inner)))
            (v128.store (local.get $pc) (local.get $c00))
            (v128.store offset=16 (local.get $pc) (local.get $c01))
            (v128.store (i32.add (local.get $pc) (local.get $ld)) (local.get $c10))
            (v128.store offset=16 (i32.add (local.get $pc) (local.get $ld)) (local.get $c11))
            (v128.store (i32.add (local.get $pc) (i32.shl (local.get $ld) (i32.const 1))) (local.get $c20))
            (v128.store offset=16 (i32.add (local.get $pc) (i32.shl (local.get $ld) (i32.const 1))) (local.get $c21))
            (v128.store (i32.add (local.get $pc) (i32.mul (local.get $ld) (i32.const 3))) (local.get $c30))
            (v128.store offset=16 (i32.add (local.get $pc) (i32.mul (local.get $ld) (i32.const 3))) (local.get $c31))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $cols)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $rows)))
  )

  ;; dst[0..count) (float64) = src[0..count) (float32), exactly; count a multiple of 4.
  (func (export "promote") (param $src i32) (param $dst i32) (param $count i32)
    (local $end i32) (local $v v128)
    (local.set $end (i32.add (local.get $src) (i32.shl (local.get $count) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
        (local.set $v (v128.load (local.get $src)))
        (v128.store (local.get $dst) (f64x2.promote_low_f32x4 (local.get $v)))
        (v128.store offset=16 (local.get $dst)
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
        (br $next))))

  ;; dst[i, :] (float64) = w[i] (float64) * src[i, :] (float32) for rows i, n a multiple of 4 columns.
  (func (export "scale_rows") (param $src i32) (param $w i32) (param $dst i32) (param $rows i32) (param $n i32)
    (local $end i32) (local $row_end i32) (local $x v128) (local $v v128)
    (local.set $end (i32.add (local.get $w) (i32.shl (local.get $rows) (i32.const 3))))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $w) (local.get $end)))
        (local.set $x (v128.load64_splat (local.get $w)))
        (local.set $row_end (i32.add (local.get $src) (i32.shl (local.get $n) (i32.const 2))))
        (block $row_done
          (loop $col
            (br_if $row_done (i32.ge_u (local.get $src) (local.get $row_end)))
            (local.set $v (v128.load (local.get $src)))
            (v128.store (local.get $dst) (f64x2.mul (local.get $x) (f64x2.promote_low_f32x4 (local.get $v))))
            (v128.store offset=16 (local.get $dst)
              (f64x2.mul (local.get $x) (f64x2.promote_low_f32x4
                (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
            (local.set $src (i32.add (local.get $src) (i32.const 16)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
            (br $col)))
        (local.set $w (i32.add (local.get $w) (i32.const 8)))
        (br $row))))

  ;; out[j] (float64) += sum over rows i of p[i, j] (float64), n a multiple of 2 columns.
  (func (export "col_sums") (param $p i32) (param $rows i32) (param $n i32) (param $out i32)
    (local $j i32) (local $q i32) (local $r i32) (local $acc v128) (local $ld i32)
    (local.set $ld (i32.shl (local.get $n) (i32.const 3)))
    (block $done
      (loop $col
        (br_if $done (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $q (i32.add (local.get $p) (i32.shl (local.get $j) (i32.const 3))))
        (local.set $acc (v128.load (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 3)))))
        (local.set $r (local.get $rows))
        (block $rows_done
          (loop $row
            (br_if $rows_done (i32.eqz (local.get $r)))
            (local.set $acc (f64x2.add (local.get $acc) (v128.load (local.get $q))))
            (local.set $q (i32.add (local.get $q) (local.get $ld)))
            (local.set $r (i32.sub (local.get $r) (i32.const 1)))
            (br $row)))
        (v128.store (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 3))) (local.get $acc))
        (local.set $j (i32.add (local.get $j) (i32.const 2)))
        (br $col))))

  ;; out[i] (float64) = sum over j of p[i, j]² for rows i, p float32 with n a multiple of 4 columns; the squares
  ;; and sums are float64 (a float32 square is exact in float64).
  (func (export "row_sumsq") (param $p i32) (param $rows i32) (param $n i32) (param $out i32)
    (local $end i32) (local $row_end i32) (local $v v128) (local $lo v128) (local $hi v128) (local $acc v128)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $rows) (i32.const 3))))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (local.set $acc (v128.const f64x2 0 0))
        (local.set $row_end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
        (block $row_done
          (loop $col
            (br_if $row_done (i32.ge_u (local.get $p) (local.get $row_end)))
            (local.set $v (v128.load (local.get $p)))
            (local.set $lo (f64x2.promote_low_f32x4 (local.get $v)))
            (local.set $hi (f64x2.promote_low_f32x4
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
            (local.set $acc (f64x2.add (local.get $acc)
              (f64x2.add (f64x2.mul (local.get $lo) (local.get $lo)) (f64x2.mul (local.get $hi) (local.get $hi)))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (br $col)))
        (f64.store (local.get $out)
          (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc))))
        (local.set $out (i32.add (local.get $out) (i32.const 8)))
        (br $row))))

  ;; dst[j, i] = src[i, j] for a rows x cols float32 matrix (the transposed weights of the forward pass).
  (func (export "transpose") (param $src i32) (param $dst i32) (param $rows i32) (param $cols i32)
    (local $i i32) (local $j i32) (local $q i32)
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $i) (local.get $rows)))
        (local.set $q (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $j (i32.const 0))
        (block $row_done
          (loop $col
            (br_if $row_done (i32.ge_u (local.get $j) (local.get $cols)))
            (f32.store (local.get $q) (f32.load (local.get $src)))
            (local.set $src (i32.add (local.get $src) (i32.const 4)))
            (local.set $q (i32.add (local.get $q) (i32.shl (local.get $rows) (i32.const 2))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $col)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $row))))

  ;; out[j] (float64) += sum over rows i of p[i, j] (float32, promoted exactly), n a multiple of 4 columns.
  (func (export "col_sums_f32") (param $p i32) (param $rows i32) (param $n i32) (param $out i32)
    (local $j i32) (local $q i32) (local $r i32) (local $lo v128) (local $hi v128) (local $v v128) (local $ld i32)
    (local $o i32)
    (local.set $ld (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $col
        (br_if $done (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $q (i32.add (local.get $p) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $o (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 3))))
        (local.set $lo (v128.load (local.get $o)))
        (local.set $hi (v128.load offset=16 (local.get $o)))
        (local.set $r (local.get $rows))
        (block $rows_done
          (loop $row
            (br_if $rows_done (i32.eqz (local.get $r)))
            (local.set $v (v128.load (local.get $q)))
            (local.set $lo (f64x2.add (local.get $lo) (f64x2.promote_low_f32x4 (local.get $v))))
            (local.set $hi (f64x2.add (local.get $hi) (f64x2.promote_low_f32x4
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
            (local.set $q (i32.add (local.get $q) (local.get $ld)))
            (local.set $r (i32.sub (local.get $r) (i32.const 1)))
            (br $row)))
        (v128.store (local.get $o) (local.get $lo))
        (v128.store offset=16 (local.get $o) (local.get $hi))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $col))))

  ;; c[i, :] = row for rows i < m (float32, n a multiple of 4 columns): the bias before a layer's product.
  (func (export "fill_rows") (param $c i32) (param $row i32) (param $m i32) (param $n i32)
    (local $end i32) (local $q i32) (local $row_end i32)
    (local.set $end (i32.add (local.get $c) (i32.shl (i32.mul (local.get $m) (local.get $n)) (i32.const 2))))
    (local.set $row_end (i32.add (local.get $row) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next_row
        (br_if $done (i32.ge_u (local.get $c) (local.get $end)))
        (local.set $q (local.get $row))
        (block $row_done
          (loop $next
            (br_if $row_done (i32.ge_u (local.get $q) (local.get $row_end)))
            (v128.store (local.get $c) (v128.load (local.get $q)))
            (local.set $q (i32.add (local.get $q) (i32.const 16)))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))
            (br $next)))
        (br $next_row))))

  ;; p[0..count) = max(p, 0) (ReLU), count a multiple of 4.
  (func (export "relu") (param $p i32) (param $count i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $count) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (v128.store (local.get $p) (f32x4.max (v128.load (local.get $p)) (v128.const f32x4 0 0 0 0)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $next))))

  ;; e *= relu'(a): e = 0 where a is not > 0 (a is the layer's ReLU output), count a multiple of 4.
  (func (export "relu_backward") (param $e i32) (param $a i32) (param $count i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $e) (i32.shl (local.get $count) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $e) (local.get $end)))
        (v128.store (local.get $e)
          (v128.and (v128.load (local.get $e)) (f32x4.gt (v128.load (local.get $a)) (v128.const f32x4 0 0 0 0))))
        (local.set $e (i32.add (local.get $e) (i32.const 16)))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (br $next))))

  ;; e *= tanh'(·) = 1 - a² (a is the layer's tanh output), count a multiple of 4.
  (func (export "tanh_backward") (param $e i32) (param $a i32) (param $count i32)
    (local $end i32) (local $v v128)
    (local.set $end (i32.add (local.get $e) (i32.shl (local.get $count) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $e) (local.get $end)))
        (local.set $v (v128.load (local.get $a)))
        (v128.store (local.get $e)
          (f32x4.mul (v128.load (local.get $e))
            (f32x4.sub (v128.const f32x4 1 1 1 1) (f32x4.mul (local.get $v) (local.get $v)))))
        (local.set $e (i32.add (local.get $e) (i32.const 16)))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (br $next))))
)
