"""a3net.latent.slerp: ends, length kept on the shell, straight line for parallel vectors."""

import numpy as np
import pytest

from a3net.latent import slerp


def test_slerp_keeps_the_length_where_the_straight_line_dips():
    rng = np.random.default_rng(0)
    z1, z2 = rng.standard_normal((2, 500, 16))
    path = slerp(z1, z2, [0.0, 0.5, 1.0])
    assert path.shape == (3, 500, 16)
    np.testing.assert_allclose(path[0], z1, atol=1e-5)
    np.testing.assert_allclose(path[-1], z2, atol=1e-5)
    middle = np.linalg.norm(path[1], axis=1).mean()
    linear = np.linalg.norm(0.5 * (z1 + z2), axis=1).mean()
    ends = np.linalg.norm(z1, axis=1).mean()
    assert abs(middle / ends - 1) < 0.05 and abs(linear / ends - 2**-0.5) < 0.05
    one = slerp(z1[0], z2[0], np.linspace(0, 1, 5))
    np.testing.assert_allclose(one[2], path[1, 0], rtol=1e-5)


def test_parallel_vectors_give_the_straight_line_and_bad_input_is_refused():
    z = np.arange(1.0, 5.0)
    np.testing.assert_allclose(slerp(z, 2 * z, [0.5])[0], 1.5 * z, rtol=1e-6)
    with pytest.raises(ValueError, match="one shape"):
        slerp(np.ones(3), np.ones(4), [0.5])
