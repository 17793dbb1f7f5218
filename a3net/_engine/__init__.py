"""The framework engine, written once and framework-free (it imports neither torch nor TensorFlow).

* ``training``: the epoch loop of ``fit`` and ``evaluate`` and the :class:`Backend` each
  framework supplies (threads, device, optimiser plumbing, a compiled batch step, outputs and
  input gradients of a batch);
* ``api``: ``fit``, ``evaluate``, ``predict``, ``saliency``, ``generate`` and
  ``count_parameters``, bound to one backend;
* ``contract``: the model contract (task, sample shape, input and target checks, the default
  optimiser and batch step) and the primitives each framework's ``A3Model`` supplies;
* ``gan``: the conditional WGAN's critic and generator steps, used by both ``SpectrumWGAN``;
* ``vae``: the sigma-VAE's two optimisers and its batch step, used by both ``SpectrumCVAE``;
* ``checks``: the constructor checks of the models, shared by their two twins;
* ``latent``: latent draws from NumPy, the same in both frameworks.
"""
