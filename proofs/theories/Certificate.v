(** * The positive-definiteness certificate for sigma(W) <= t, the LDL^T /
      Cholesky criterion for positive definiteness, and the vector lower
      bound.  All proofs are ours. *)
From Coq Require Import Reals Lra Lia.
From Lipcert Require Import Vec Norms.
Open Scope R_scope.

(** Quadratic form x^T M x of an n x n matrix. *)
Definition quadform (n : nat) (M : mat) (x : vec) : R := dot n x (matvec n M x).

Definition psd (n : nat) (M : mat) : Prop := forall x, 0 <= quadform n M x.

Definition posdef (n : nat) (M : mat) : Prop :=
  forall x, (exists i, (i < n)%nat /\ x i <> 0) -> 0 < quadform n M x.

Lemma posdef_psd : forall n M, posdef n M -> psd n M.
Proof.
  intros n M H x.
  destruct (nonzero_or_zero n x) as [Hnz|Hz].
  - apply Rlt_le, H, Hnz.
  - unfold quadform. rewrite dot_zero_l by exact Hz. lra.
Qed.

Definition ident (c : R) : mat := fun i j => if Nat.eq_dec i j then c else 0.
Definition msub (A B : mat) : mat := fun i j => A i j - B i j.

(** The Gram matrix W^T W of an m x n matrix W (n x n). *)
Definition gram (m : nat) (W : mat) : mat := matmul m (transpose W) W.

Lemma quadform_ident : forall n c x, quadform n (ident c) x = c * dot n x x.
Proof.
  intros. unfold quadform, dot. rewrite <- sum_scal_l. apply sum_ext. intros i Hi.
  unfold matvec, ident. rewrite (sum_single n _ i Hi).
  - destruct (Nat.eq_dec i i); [ring|congruence].
  - intros j _ Hj. destruct (Nat.eq_dec i j); [congruence|ring].
Qed.

Lemma quadform_sub : forall n A B x, quadform n (msub A B) x = quadform n A x - quadform n B x.
Proof.
  intros. unfold quadform, dot, matvec, msub. rewrite <- sum_minus. apply sum_ext; intros i _.
  rewrite <- Rmult_minus_distr_l, <- sum_minus. f_equal. apply sum_ext; intros; ring.
Qed.

(** x^T (W^T W) x = |W x|^2. *)
Lemma quadform_gram : forall m n W x, quadform n (gram m W) x = dot m (matvec n W x) (matvec n W x).
Proof.
  intros. unfold quadform, gram.
  rewrite (adjoint m n W x (matvec n W x)).
  unfold dot. apply sum_ext. intros i _. f_equal. apply matvec_matmul.
Qed.

(** [psd_iff_norm_bound]: for t >= 0,
    (for all x, |W x| <= t |x|)  <->  t^2 I - W^T W is positive semidefinite. *)
Theorem psd_iff_norm_bound : forall m n W t, 0 <= t ->
  (bounded m n W t <-> psd n (msub (ident (t * t)) (gram m W))).
Proof.
  intros m n W t Ht. split.
  - intros HB x. rewrite quadform_sub, quadform_ident, quadform_gram.
    pose proof (sq_of_norm_le m n (matvec n W x) x t Ht (HB x)). lra.
  - intros HP x. specialize (HP x).
    rewrite quadform_sub, quadform_ident, quadform_gram in HP.
    apply norm_le_of_sq; [exact Ht|lra].
Qed.

(** Positive definiteness of t^2 I - W^T W gives the bound as well (the
    certificate lipcert checks is the strict one). *)
Theorem posdef_norm_bound : forall m n W t, 0 <= t ->
  posdef n (msub (ident (t * t)) (gram m W)) -> bounded m n W t.
Proof.
  intros m n W t Ht HP. apply (psd_iff_norm_bound m n W t Ht). apply posdef_psd, HP.
Qed.

(** A = T^T D T with T upper triangular with nonzero diagonal and D > 0 is
    positive definite: x^T A x = sum_k d_k (T x)_k^2, and (T x)_i = T_ii x_i
    at the last nonzero entry x_i of x. *)
Theorem triangular_factor_posdef : forall n (A T : mat) (d : vec),
  (forall i j, (i < n)%nat -> (j < n)%nat -> A i j = sum n (fun k => T k i * d k * T k j)) ->
  (forall i l, (l < i)%nat -> (i < n)%nat -> T i l = 0) ->
  (forall i, (i < n)%nat -> T i i <> 0) ->
  (forall k, (k < n)%nat -> 0 < d k) ->
  posdef n A.
Proof.
  intros n A T d HA Htri Hdiag Hd x Hx.
  set (y := matvec n T x).
  assert (Ay : forall i, (i < n)%nat -> matvec n A x i = sum n (fun k => T k i * d k * y k)).
  { intros i Hi. unfold matvec at 1.
    rewrite (sum_ext n _ (fun j => sum n (fun k => T k i * d k * T k j * x j)))
      by (intros j Hj; rewrite HA by assumption; rewrite <- sum_scal_r; reflexivity).
    rewrite sum_swap. apply sum_ext. intros k _. unfold y, matvec.
    rewrite <- sum_scal_l. apply sum_ext; intros; ring. }
  assert (Q : quadform n A x = sum n (fun k => d k * (y k * y k))).
  { unfold quadform, dot.
    rewrite (sum_ext n _ (fun i => sum n (fun k => x i * (T k i * d k * y k))))
      by (intros i Hi; rewrite Ay by exact Hi; rewrite sum_scal_l; reflexivity).
    rewrite sum_swap. apply sum_ext. intros k _.
    rewrite (sum_ext n _ (fun i => T k i * x i * (d k * y k))) by (intros; ring).
    rewrite sum_scal_r. fold (matvec n T x k). fold y. ring. }
  rewrite Q.
  destruct (last_nonzero n x Hx) as (i & Hi & Hxi & Hlast).
  assert (Yi : y i = T i i * x i).
  { unfold y, matvec. rewrite (sum_single n (fun j => T i j * x j) i Hi); [reflexivity|].
    intros l Hl Hli. destruct (Nat.lt_ge_cases l i) as [Lt|Ge].
    - rewrite Htri by assumption. ring.
    - rewrite Hlast by lia. ring. }
  assert (Pos : 0 < d i * (y i * y i)).
  { apply Rmult_lt_0_compat; [apply Hd; exact Hi|].
    rewrite Yi. assert (T i i * x i <> 0) by (apply Rmult_integral_contrapositive; split; auto).
    destruct (Rlt_or_le 0 (T i i * x i)) as [P|N]; [nra|].
    destruct N as [N|N]; [nra|congruence]. }
  eapply Rlt_le_trans; [exact Pos|].
  apply (sum_term_le n (fun k => d k * (y k * y k)) i); [|exact Hi].
  intros k Hk. apply Rmult_le_pos; [apply Rlt_le, Hd; exact Hk|apply Rle_0_sqr].
Qed.

(** [ldlt_posdef]: a symmetric A = L D L^T with L unit lower triangular and
    D diagonal positive is positive definite. *)
Theorem ldlt_posdef : forall n (A L : mat) (d : vec),
  (forall i j, (i < n)%nat -> (j < n)%nat -> A i j = sum n (fun k => L i k * d k * L j k)) ->
  (forall i k, (i < k)%nat -> (k < n)%nat -> L i k = 0) ->
  (forall i, (i < n)%nat -> L i i = 1) ->
  (forall k, (k < n)%nat -> 0 < d k) ->
  posdef n A.
Proof.
  intros n A L d HA Hl H1 Hd.
  apply (triangular_factor_posdef n A (transpose L) d); auto.
  - intros i l Hli Hi. unfold transpose. apply Hl; lia.
  - intros i Hi. unfold transpose. rewrite H1 by exact Hi. lra.
Qed.

(** Cholesky form: A = R^T R with R upper triangular with positive (or just
    nonzero) diagonal is positive definite. *)
Theorem cholesky_posdef : forall n (A R : mat),
  (forall i j, (i < n)%nat -> (j < n)%nat -> A i j = sum n (fun k => R k i * R k j)) ->
  (forall k i, (i < k)%nat -> (k < n)%nat -> R k i = 0) ->
  (forall i, (i < n)%nat -> R i i <> 0) ->
  posdef n A.
Proof.
  intros n A R HA Hu Hd.
  apply (triangular_factor_posdef n A R (fun _ => 1)); auto; [|intros; lra].
  intros i j Hi Hj. rewrite HA by assumption. apply sum_ext; intros; ring.
Qed.

(** [vector_lower_bound]: any t with |W x| <= t |x| for all x satisfies
    t >= |W v| / |v| for every v <> 0; i.e. sigma(W) >= |W v| / |v|. *)
Theorem vector_lower_bound : forall m n W t v,
  bounded m n W t -> (exists i, (i < n)%nat /\ v i <> 0) ->
  norm m (matvec n W v) / norm n v <= t.
Proof.
  intros m n W t v HB (i & Hi & Hv).
  pose proof (norm_pos n v i Hi Hv) as P.
  apply (Rmult_le_reg_r (norm n v)); [exact P|].
  unfold Rdiv. rewrite Rmult_assoc, Rinv_l by lra. rewrite Rmult_1_r. apply HB.
Qed.

(** ** Assembling the certificate used by [certify_upper] *)

(* [madd] is [Norms.madd]. *)
Lemma quadform_add : forall n A B x, quadform n (madd A B) x = quadform n A x + quadform n B x.
Proof.
  intros. unfold quadform, dot, matvec, madd. rewrite <- sum_plus. apply sum_ext; intros i _.
  rewrite <- Rmult_plus_distr_l, <- sum_plus. f_equal. apply sum_ext; intros; ring.
Qed.

Lemma quadform_ext : forall n A B x, (forall i j, (i < n)%nat -> (j < n)%nat -> A i j = B i j) ->
  quadform n A x = quadform n B x.
Proof.
  intros n A B x H. unfold quadform, dot, matvec. apply sum_ext; intros i Hi. f_equal.
  apply sum_ext; intros j Hj. rewrite H by assumption. reflexivity.
Qed.

Lemma posdef_add_psd : forall n A B, posdef n A -> psd n B -> posdef n (madd A B).
Proof.
  intros n A B HA HB x Hx. rewrite quadform_add. pose proof (HA x Hx). pose proof (HB x). lra.
Qed.

Lemma psd_add : forall n A B, psd n A -> psd n B -> psd n (madd A B).
Proof. intros n A B HA HB x. rewrite quadform_add. pose proof (HA x). pose proof (HB x). lra. Qed.

(** rho I + E is positive semidefinite when sigma(E) <= rho. *)
Theorem psd_shift_of_bound : forall n E rho, bounded n n E rho -> psd n (madd (ident rho) E).
Proof.
  intros n E rho HE x. rewrite quadform_add, quadform_ident. unfold quadform.
  pose proof (cauchy_schwarz n x (matvec n E x)) as C.
  pose proof (HE x) as B. pose proof (norm_nonneg n x) as Nx.
  assert (C1 : - dot n x (matvec n E x) <= Rabs (dot n x (matvec n E x)))
    by (rewrite <- Rabs_Ropp; apply Rle_abs).
  assert (norm n x * norm n (matvec n E x) <= norm n x * (rho * norm n x))
    by (apply Rmult_le_compat_l; assumption).
  rewrite <- norm_sq.
  replace (norm n x * (rho * norm n x)) with (rho * (norm n x * norm n x)) in H by ring.
  lra.
Qed.

(** A diagonal matrix with nonnegative entries is positive semidefinite. *)
Lemma psd_diag : forall n (d : vec), (forall i, (i < n)%nat -> 0 <= d i) ->
  psd n (fun i j => if Nat.eq_dec i j then d i else 0).
Proof.
  intros n d Hd x. unfold quadform, dot, matvec. apply sum_nonneg. intros i Hi.
  rewrite (sum_single n _ i Hi).
  - destruct (Nat.eq_dec i i); [|congruence].
    replace (x i * (d i * x i)) with (d i * (x i * x i)) by ring.
    apply Rmult_le_pos; [apply Hd; exact Hi|apply Rle_0_sqr].
  - intros j _ Hj. destruct (Nat.eq_dec i j); [congruence|ring].
Qed.

(** [pd_upper_certificate]: the argument of lipcert's [certify_upper].
    S is m x n, C is any n x n matrix with sigma(C - S^T S) <= rho, and A is
    the matrix that is certified positive definite (e.g. by
    [Cholesky.rump_cholesky_posdef]) with A_ij = -C_ij off the diagonal and
    A_ii <= s^2 - rho - C_ii.  Then sigma(S) <= s. *)
Theorem pd_upper_certificate : forall m n (S C A : mat) rho s,
  0 <= s ->
  bounded n n (msub C (gram m S)) rho ->
  (forall i j, (i < n)%nat -> (j < n)%nat -> i <> j -> A i j = - C i j) ->
  (forall i, (i < n)%nat -> A i i <= s * s - rho - C i i) ->
  posdef n A ->
  bounded m n S s.
Proof.
  intros m n S C A rho s Hs HE Hoff Hdiag HA.
  apply posdef_norm_bound; [exact Hs|].
  set (D := fun i j => if Nat.eq_dec i j then s * s - rho - C i i - A i i else 0).
  assert (PD : posdef n (madd A (madd (madd (ident rho) (msub C (gram m S))) D))).
  { apply posdef_add_psd; [exact HA|]. apply psd_add.
    - apply psd_shift_of_bound; exact HE.
    - apply psd_diag. intros i Hi. pose proof (Hdiag i Hi). lra. }
  intros x Hx. specialize (PD x Hx).
  rewrite (quadform_ext n _ (madd A (madd (madd (ident rho) (msub C (gram m S))) D))); [exact PD|].
  intros i j Hi Hj. unfold madd, msub, ident, D.
  destruct (Nat.eq_dec i j) as [->|Hne]; [ring|].
  rewrite Hoff by assumption. ring.
Qed.

(** ** The three answers of the exact comparison ([src/exact/compare.rs]) *)

(** A strict bound gives positive definiteness: sigma(W) <= t < s  ==>
    s^2 I - W^T W is positive definite. *)
Theorem strict_bound_posdef : forall m n W t s, 0 <= t < s ->
  bounded m n W t -> posdef n (msub (ident (s * s)) (gram m W)).
Proof.
  intros m n W t s Ht HB x (i & Hi & Hx).
  rewrite quadform_sub, quadform_ident, quadform_gram.
  pose proof (sq_of_norm_le m n (matvec n W x) x t (proj1 Ht) (HB x)) as H.
  pose proof (norm_pos n x i Hi Hx) as P.
  pose proof (norm_sq m (matvec n W x)). pose proof (norm_sq n x).
  assert (t * t < s * s) by (apply Rmult_le_0_lt_compat; lra).
  assert (t * t * (norm n x * norm n x) < s * s * (norm n x * norm n x))
    by (apply Rmult_lt_compat_r; [apply Rmult_lt_0_compat|]; assumption).
  rewrite (norm_sq n x) in *. lra.
Qed.

(** A vector with x^T (s^2 I - W^T W) x < 0 shows sigma(W) > s. *)
Theorem neg_quadform_norm_exceeds : forall m n W s x, 0 <= s ->
  quadform n (msub (ident (s * s)) (gram m W)) x < 0 -> s * norm n x < norm m (matvec n W x).
Proof.
  intros m n W s x Hs Hq.
  rewrite quadform_sub, quadform_ident, quadform_gram in Hq.
  destruct (Rlt_or_le (s * norm n x) (norm m (matvec n W x))) as [L|L]; [exact L|].
  exfalso. pose proof (sq_of_norm_le m n (matvec n W x) x s Hs L). lra.
Qed.

(** A vector with x^T (s^2 I - W^T W) x = 0 attains |W x| = s |x|. *)
Theorem zero_quadform_attains : forall m n W s x, 0 <= s ->
  quadform n (msub (ident (s * s)) (gram m W)) x = 0 -> norm m (matvec n W x) = s * norm n x.
Proof.
  intros m n W s x Hs Hq.
  rewrite quadform_sub, quadform_ident, quadform_gram in Hq.
  pose proof (norm_nonneg m (matvec n W x)). pose proof (norm_nonneg n x).
  assert (E : norm m (matvec n W x) * norm m (matvec n W x) = (s * norm n x) * (s * norm n x)).
  { rewrite norm_sq. replace ((s * norm n x) * (s * norm n x)) with (s * s * (norm n x * norm n x)) by ring.
    rewrite norm_sq. lra. }
  assert (0 <= s * norm n x) by (apply Rmult_le_pos; assumption).
  destruct (Rtotal_order (norm m (matvec n W x)) (s * norm n x)) as [L|[L|L]]; [|exact L|].
  - assert (norm m (matvec n W x) * norm m (matvec n W x) < (s * norm n x) * (s * norm n x))
      by (apply Rmult_le_0_lt_compat; assumption). lra.
  - assert ((s * norm n x) * (s * norm n x) < norm m (matvec n W x) * norm m (matvec n W x))
      by (apply Rmult_le_0_lt_compat; assumption). lra.
Qed.

(** ** Lower half of Rump's enclosure from approximate singular vectors
    (S. M. Rump, BIT 51 (2011), Thm 3.2; the proof here is ours). *)

Lemma coord_le_norm : forall n y i, (i < n)%nat -> Rabs (y i) <= norm n y.
Proof.
  intros n y i Hi. rewrite <- sqrt_Rsqr_abs. unfold norm, Rsqr. apply sqrt_le_1_alt.
  unfold dot. apply (sum_term_le n (fun j => y j * y j) i); [intros; apply Rle_0_sqr|exact Hi].
Qed.

Lemma norm_unit : forall n i, (i < n)%nat -> norm n (unit i) = 1.
Proof.
  intros n i Hi. unfold norm, dot. rewrite (sum_single n _ i Hi).
  - unfold unit. destruct (Nat.eq_dec i i); [|congruence]. rewrite Rmult_1_l. apply sqrt_1.
  - intros j _ Hj. unfold unit. destruct (Nat.eq_dec j i); [congruence|ring].
Qed.

(** A diagonal entry is bounded by the spectral norm. *)
Lemma diag_le_bound : forall n E e i, (i < n)%nat -> bounded n n E e -> Rabs (E i i) <= e.
Proof.
  intros n E e i Hi HE.
  assert (Ei : matvec n E (unit i) i = E i i).
  { unfold matvec. rewrite (sum_single n _ i Hi).
    - unfold unit. destruct (Nat.eq_dec i i); [ring|congruence].
    - intros j _ Hj. unfold unit. destruct (Nat.eq_dec j i); [congruence|ring]. }
  rewrite <- Ei. eapply Rle_trans; [apply coord_le_norm; exact Hi|].
  eapply Rle_trans; [apply HE|]. rewrite norm_unit by exact Hi. lra.
Qed.

(** [rump_lower_bound]: B = S V, B^T B = D + E with sigma(E) <= eps,
    sigma(I - V^T V) <= alpha, and d = D_ii for some i.  Then every bound t
    on sigma(S) satisfies d - eps <= t^2 (1 + alpha), i.e.
    sigma(S) >= sqrt((d - eps) / (1 + alpha)). *)
Theorem rump_lower_bound : forall m n k (S V D E : mat) d eps alpha t i,
  (i < k)%nat -> 0 <= t ->
  (forall a b, (a < k)%nat -> (b < k)%nat -> gram m (matmul n S V) a b = D a b + E a b) ->
  D i i = d ->
  bounded k k E eps ->
  bounded k k (msub (ident 1) (gram n V)) alpha ->
  bounded m n S t ->
  d - eps <= t * t * (1 + alpha).
Proof.
  intros m n k S V D E d eps alpha t i Hi Ht HG HD HE HA HS.
  set (v := fun j => V j i).
  assert (Sv : dot m (matvec n S v) (matvec n S v) = D i i + E i i).
  { rewrite <- HG by assumption. unfold gram, matmul, transpose, dot, matvec, v. reflexivity. }
  assert (Vv : dot n v v <= 1 + alpha).
  { pose proof (diag_le_bound k _ alpha i Hi HA) as A.
    unfold msub, ident in A. destruct (Nat.eq_dec i i) as [_|]; [|congruence].
    assert (E2 : gram n V i i = dot n v v) by (unfold gram, matmul, transpose, dot, v; reflexivity).
    rewrite E2 in A. pose proof (Rle_abs (- (1 - dot n v v))). rewrite Rabs_Ropp in *. lra. }
  pose proof (diag_le_bound k E eps i Hi HE) as Ee.
  pose proof (sq_of_norm_le m n (matvec n S v) v t Ht (HS v)) as B.
  assert (t * t * dot n v v <= t * t * (1 + alpha)) by (apply Rmult_le_compat_l; [apply Rle_0_sqr|exact Vv]).
  pose proof (Rle_abs (- E i i)). rewrite Rabs_Ropp in *. lra.
Qed.

Lemma quadform_bound : forall n E e y, bounded n n E e -> quadform n E y <= e * dot n y y.
Proof.
  intros n E e y HE. unfold quadform.
  eapply Rle_trans; [apply Rle_abs|]. eapply Rle_trans; [apply cauchy_schwarz|].
  pose proof (norm_nonneg n y). rewrite <- norm_sq.
  replace (e * (norm n y * norm n y)) with (norm n y * (e * norm n y)) by ring.
  apply Rmult_le_compat_l; [assumption|apply HE].
Qed.

(** [rump_upper_bound]: upper half of Rump 2011 Thm 3.2, *given* that the
    square matrix V is onto (every x is V y).  (That a square V with
    |I - V^T V| < 1 is invertible is standard linear algebra that our
    lightweight matrix library does not formalize; it is the one
    hypothesis beyond Rump's.)  B = S V, B^T B = D + E with D diagonal,
    D_aa <= d, sigma(E) <= eps, sigma(I - V^T V) <= alpha < 1 ==>
    sigma(S) <= sqrt((d + eps)/(1 - alpha)). *)
Theorem rump_upper_bound : forall m n (S V D E : mat) d eps alpha,
  0 <= alpha < 1 -> 0 <= d + eps ->
  (forall a b, (a < n)%nat -> (b < n)%nat -> gram m (matmul n S V) a b = D a b + E a b) ->
  (forall a b, (a < n)%nat -> (b < n)%nat -> a <> b -> D a b = 0) ->
  (forall a, (a < n)%nat -> D a a <= d) ->
  bounded n n E eps ->
  bounded n n (msub (ident 1) (gram n V)) alpha ->
  (forall x, exists y, forall i, (i < n)%nat -> matvec n V y i = x i) ->
  bounded m n S (sqrt ((d + eps) / (1 - alpha))).
Proof.
  intros m n S V D E d eps alpha Ha Hde HG HDoff HDd HE HA Honto x.
  destruct (Honto x) as [y Hy].
  assert (Hc : 0 <= (d + eps) / (1 - alpha)) by (apply Rmult_le_pos; [lra|apply Rlt_le, Rinv_0_lt_compat; lra]).
  apply norm_le_of_sq; [apply sqrt_pos|]. rewrite sqrt_sqrt by exact Hc.
  (* |S x|^2 = y^T (B^T B) y <= (d + eps) |y|^2 *)
  assert (Sx : dot m (matvec n S x) (matvec n S x) = quadform n (gram m (matmul n S V)) y).
  { rewrite quadform_gram. unfold dot. apply sum_ext. intros r _.
    rewrite (matvec_matmul n n S V y r). rewrite (matvec_ext n S x (matvec n V y)) by (intros; symmetry; auto).
    reflexivity. }
  assert (Q1 : quadform n (gram m (matmul n S V)) y <= (d + eps) * dot n y y).
  { rewrite (quadform_ext n _ (madd D E)) by (intros; unfold madd; auto).
    rewrite quadform_add. pose proof (quadform_bound n E eps y HE) as QE.
    assert (QD : quadform n D y <= d * dot n y y).
    { unfold quadform, dot, matvec. rewrite <- sum_scal_l. apply sum_le. intros a Ha'.
      rewrite (sum_single n _ a Ha') by (intros b Hb1 Hb; rewrite HDoff by (auto; lia); ring).
      replace (y a * (D a a * y a)) with (D a a * (y a * y a)) by ring.
      apply Rmult_le_compat_r; [apply Rle_0_sqr|auto]. }
    lra. }
  (* |x|^2 = y^T V^T V y >= (1 - alpha) |y|^2 *)
  assert (Xn : dot n x x = quadform n (gram n V) y).
  { rewrite quadform_gram. unfold dot. apply sum_ext. intros i Hi. rewrite Hy by exact Hi. reflexivity. }
  assert (Q2 : (1 - alpha) * dot n y y <= dot n x x).
  { pose proof (quadform_bound n _ alpha y HA) as QA.
    rewrite quadform_sub, quadform_ident in QA. rewrite Xn. lra. }
  assert (Yn : dot n y y <= dot n x x / (1 - alpha)).
  { apply (Rmult_le_reg_l (1 - alpha)); [lra|].
    replace ((1 - alpha) * (dot n x x / (1 - alpha))) with (dot n x x) by (field; lra). lra. }
  rewrite Sx. eapply Rle_trans; [exact Q1|].
  replace ((d + eps) / (1 - alpha) * dot n x x) with ((d + eps) * (dot n x x / (1 - alpha))) by (field; lra).
  apply Rmult_le_compat_l; [exact Hde|exact Yn].
Qed.
