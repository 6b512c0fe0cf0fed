"""A plain PyTorch Red-Green training written the way the authors' loop works.

The yardstick of ``red_green_vs_baseline.py``, not part of the library: the network
with ``nn.Conv2d``'s own padding, NCHW fp32 tensors, a ``DataLoader`` over the
unshuffled training set (batch 200), Adadelta (lr 1, rho 0.9, eps 1e-6, weight decay
5e-5), a validation pass per epoch whose best weights are saved to a file, early
stopping after ``patience + 1`` epochs without improvement, then the Similar and
Dissimilar tests on the saved weights. One training serves one protocol.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from transinv.red_green_data import make_splits

# border -> (padding, padding_mode) as the authors' script passes them to nn.Conv2d
PADDING = {
    "valid": (0, "zeros"),
    "same_zero": (1, "zeros"),
    "same_circular": (1, "circular"),
    "full_zero": (2, "zeros"),
}


class Net(nn.Module):
    def __init__(self, border: str) -> None:
        super().__init__()
        padding, mode = PADDING[border]

        def conv(c_in: int, c_out: int, stride: int) -> nn.Conv2d:
            return nn.Conv2d(c_in, c_out, 3, stride, padding=padding, padding_mode=mode, bias=False)

        self.conv1 = conv(3, 32, 1)
        self.conv2 = conv(32, 32, 2)
        self.conv3 = conv(32, 64, 2)
        self.conv4 = conv(64, 64, 2)
        self.pool = nn.AdaptiveMaxPool2d(1)
        self.fc = nn.Linear(64, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv1(x))
        x = torch.relu(self.conv2(x))
        x = torch.relu(self.conv3(x))
        x = torch.relu(self.conv4(x))
        return self.fc(torch.flatten(self.pool(x), 1))


def _loader(images: torch.Tensor, labels: torch.Tensor, batch_size: int) -> DataLoader:
    return DataLoader(TensorDataset(images, labels), batch_size=batch_size, shuffle=False)


def train_one_protocol(
    border: str,
    seed: int,
    protocol: str,
    max_epochs: int = 50,
    patience: int = 8,
    batch_size: int = 200,
) -> dict[str, float]:
    """One training of the authors' loop; returns the test accuracies and epochs run."""
    splits = make_splits(protocol, 2000, 1000, 1000, 1988)  # type: ignore[arg-type]
    train = _loader(*splits.tensors("train"), batch_size)
    val = _loader(*splits.tensors("val"), batch_size)
    torch.manual_seed(seed)
    net = Net(border)
    optimizer = torch.optim.Adadelta(net.parameters(), lr=1.0, rho=0.9, eps=1e-6, weight_decay=5e-5)
    criterion = nn.CrossEntropyLoss()
    best, bad, epochs = float("inf"), 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        weights = Path(tmp) / "net_model_wts.pth"
        for _ in range(max_epochs):
            epochs += 1
            net.train()
            for images, labels in train:
                optimizer.zero_grad()
                loss = criterion(net(images), labels)
                loss.backward()
                optimizer.step()
            net.eval()
            total = 0.0
            with torch.no_grad():
                for images, labels in val:
                    total += criterion(net(images), labels).item() * len(labels)
            val_loss = total / len(val.dataset)  # type: ignore[arg-type]
            if val_loss < best:
                best, bad = val_loss, 0
                torch.save(net.state_dict(), weights)
            else:
                bad += 1
                if bad > patience:
                    break
        net.load_state_dict(torch.load(weights, weights_only=True))
    result: dict[str, float] = {"epochs": epochs}
    net.eval()
    for test_set in ("similar", "dissimilar"):
        correct = 0
        with torch.no_grad():
            for images, labels in _loader(*splits.tensors(test_set), batch_size):
                correct += int((net(images).argmax(1) == labels).sum())
        result[f"{test_set}_accuracy"] = correct / 10.0
    return result
