"""The executor: model edits become commits on scratch branches.

``worktree`` owns the scratch worktree and the proposal branch, ``context``
picks what the model sees, ``sandbox`` and ``checks`` verify the result,
``pipeline`` ties one request together, ``proposals`` manages the results.
"""
